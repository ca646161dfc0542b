# ruff: noqa: F821 -- client and registry come from the notebook's earlier cells
# The scikit-learn model's version, read from the registry rather than remembered.
listed = registry.demo.versions(registry.registry_dir())
new_champion = next(str(v["version"]) for v in listed if v["framework"] == "sklearn")
client.set_registered_model_alias("reviews", "champion", new_champion)
print("champion →", new_champion)
