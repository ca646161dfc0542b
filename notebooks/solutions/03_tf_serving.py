import re

# `server` is the notebook's running server; model_config is the copy of the config it re-reads
config_copy = server.model_config  # noqa: F821
text = config_copy.read_text()
text = re.sub(r'(key: "stable"\s+value:) 1', r"\1 2", text)  # promote the canary: stable → version 2
config_copy.write_text(text)
print(text[text.index("version_labels"):])
