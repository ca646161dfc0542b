"""Every test in this folder converts and runs the small models of small_model.py: the demo proven on
models that are not the workshop's (three labels, a tokenizer of their own), as yours will be."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from small_model import LABELS, make_keras, make_sklearn

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
DEMO = Path(__file__).resolve().parents[1]


def run(folder: Path, script: str, *args: str, stdin: str | None = None, **env: str):
    """One of the demo's commands, from `folder`, as a user types it."""
    environment = {k: v for k, v in os.environ.items() if k != "MODEL_DIR"} | env
    command = [sys.executable, script, *args]
    return subprocess.run(
        command, cwd=folder, env=environment, input=stdin, capture_output=True, text=True, timeout=600
    )


def copy_demo(into: Path) -> Path:
    for name in ("classify.py", "convert.py"):
        shutil.copy(DEMO / name, into / name)
    return into


@pytest.fixture(scope="session")
def models(tmp_path_factory) -> tuple[Path, dict, dict]:
    """(folder, Keras' probabilities, scikit-learn's probabilities) per example text."""
    folder = tmp_path_factory.mktemp("small-models")
    return folder, make_keras(folder), make_sklearn(folder)


@pytest.fixture(scope="session")
def converted(models, tmp_path_factory) -> Path:
    """classify.py and convert.py copied alone into an empty folder, and the README's two convert
    commands run there: the Keras bundle in model/, the scikit-learn bundle in sklearn-model/."""
    folder, copy = models[0], copy_demo(tmp_path_factory.mktemp("copy"))
    keras = ["keras", "--saved-model", str(folder / "core"), "--tokenizer", str(folder / "tokenizer")]
    sklearn = ["sklearn", "--pipeline", str(folder / "pipeline.joblib"), "--labels", ",".join(LABELS)]
    for args in (keras, [*sklearn, "--out", "sklearn-model"]):
        done = run(copy, "convert.py", *args)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("wrote ") and f"labels {LABELS}" in done.stdout, done.stdout
    return copy
