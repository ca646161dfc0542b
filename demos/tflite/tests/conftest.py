"""Every test in this folder converts and runs the small model of small_model.py: the demo proven on a
model that is not the workshop's (three labels, a tokenizer of its own), as yours will be."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from small_model import make

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
DEMO = Path(__file__).resolve().parents[1]


def run(folder: Path, script: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    """One of the demo's commands, from `folder`, as a user types it."""
    environment = {k: v for k, v in os.environ.items() if k != "MODEL_DIR"} | env
    command = [sys.executable, script, *args]
    return subprocess.run(command, cwd=folder, env=environment, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="session")
def small_model(tmp_path_factory) -> tuple[Path, dict[str, list[float]]]:
    folder = tmp_path_factory.mktemp("small-model")
    return folder, make(folder)


@pytest.fixture(scope="session")
def converted(small_model, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """classify.py and convert.py copied alone into an empty folder, and the README's convert command run
    there on the small model: the bundle lands in model/ beside classify.py."""
    folder, copy = small_model[0], tmp_path_factory.mktemp("copy")
    for name in ("classify.py", "convert.py"):
        shutil.copy(DEMO / name, copy / name)
    args = ["--saved-model", str(folder / "core"), "--tokenizer", str(folder / "tokenizer")]
    done = run(copy, "convert.py", *args, "--calibration", str(folder / "calibration.txt"))
    assert done.returncode == 0, done.stderr
    return copy, done
