"""Chapter 06's exercise: make the scikit-learn version the champion, by moving the alias in the registry.

The check asks the registry itself which version `champion` names and what framework that version is
(its metadata), so it follows whatever version numbers the registry gave.
"""

from __future__ import annotations

from nowwhat.exercises import Verdict, not_yet, right


def check_champion(client, name: str = "reviews") -> Verdict:
    """`client` is an `mlflow.MlflowClient` on the workshop's registry."""
    from mlflow.exceptions import MlflowException

    versions = client.search_model_versions(f"name='{name}'")
    frameworks = {str(v.version): framework(client, name, v.version) for v in versions}
    try:
        champion = str(client.get_model_version_by_alias(name, "champion").version)
    except MlflowException:
        return not_yet(f"{name!r} has no `champion` alias any more: point it at a version with "
                       f"client.set_registered_model_alias({name!r}, 'champion', version).")
    if frameworks.get(champion) != "sklearn":
        shown = {"keras": "Keras", "sklearn": "scikit-learn"}.get(frameworks.get(champion), "unknown")
        sklearn = [v for v, f in frameworks.items() if f == "sklearn"]
        return not_yet(f"`champion` names version {champion}, the {shown} model: set "
                       f"new_champion to the scikit-learn version ({', '.join(sklearn)} here) and run the "
                       "cell again.")
    return right(f"`champion` names version {champion}, the scikit-learn pipeline. A server started now with "
                 f"models:/{name}@champion serves it; one already running keeps the model it loaded.")


def framework(client, name: str, version: str) -> str:
    """What a version holds, from the metadata register.py logged with it."""
    import mlflow

    mlflow.set_tracking_uri(client.tracking_uri)  # models:/ URIs resolve in the global registry
    return mlflow.models.get_model_info(f"models:/{name}/{version}").metadata["framework"]
