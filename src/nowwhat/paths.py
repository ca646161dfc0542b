"""Where generated artifacts live: one git-ignored build folder, overridable with NOWWHAT_BUILD."""

import importlib.util
import os
import sys
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


def demo_script(demo: str, name: str):
    """demos/<demo>/<name>.py imported from its file: the package runs the demo's own step (the one a
    learner runs on their model), so there is one copy of it."""
    path = REPO_ROOT / "demos" / demo / f"{name}.py"
    module_name = f"{demo.replace('-', '_')}_demo_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module
