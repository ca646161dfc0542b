"""Where generated artifacts live: one git-ignored build folder, overridable with NOWWHAT_BUILD."""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
MODEL_NAME = "reviews"


def build_dir() -> Path:
    """The build folder: $NOWWHAT_BUILD, else <repo>/build for a source checkout, else ./build."""
    if env := os.environ.get("NOWWHAT_BUILD"):
        return Path(env).resolve()
    if (REPO_ROOT / "pyproject.toml").exists():
        return REPO_ROOT / "build"
    return Path.cwd() / "build"


def data_dir() -> Path:
    return build_dir() / "data"


def model_dir() -> Path:
    """The trained Keras model and its training history."""
    return build_dir() / "model"


def export_dir() -> Path:
    """Everything the deployment chapters consume."""
    return build_dir() / "export"


def serving_base() -> Path:
    """TF Serving's model base path: <base>/<name>/<version>/saved_model.pb."""
    return export_dir() / "serving" / MODEL_NAME


def core_dir() -> Path:
    """The integer-id core model that TF.js and LiteRT can run."""
    return export_dir() / "core"


def tokenizer_dir() -> Path:
    return export_dir() / "tokenizer"
