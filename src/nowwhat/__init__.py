"""I have a model, now what?! — the small library behind the workshop notebooks, demos and tests."""

__version__ = "0.1.0"

#: Bumped whenever an exported artifact changes shape (signature, tokenizer rules, file layout).
#: Artifacts carry it in their manifest; loaders refuse a mismatch with a one-line fix.
CONTRACT_VERSION = 1
