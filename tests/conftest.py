"""Shared fixtures. Artifacts are built once per session by the package's own CLI, if missing. (Which
tests share this build folder and which have their own: ../conftest.py.)"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from nowwhat.paths import export_dir, model_dir


@pytest.fixture(scope="session")
def trained():
    """The manifest of the trained model under <build>/model, training it first if needed."""
    if not (model_dir() / "manifest.json").exists():
        subprocess.run([sys.executable, "-m", "nowwhat", "train", "--quiet"], check=True)
    return json.loads((model_dir() / "manifest.json").read_text())


@pytest.fixture(scope="session")
def exports(trained):
    """The export folder (serving + core SavedModels, tokenizer spec, test vectors), built if needed."""
    if not (export_dir() / "manifest.json").exists():
        subprocess.run([sys.executable, "-m", "nowwhat", "export"], check=True)
    return export_dir()


@pytest.fixture(scope="session")
def test_vectors(exports):
    return json.loads((exports / "tokenizer" / "test_vectors.json").read_text())


@pytest.fixture(scope="session")
def baseline():
    """Chapter 01's baseline, fitted again, and the test reviews."""
    from nowwhat.baseline import fit
    from nowwhat.data import load_splits

    splits = load_splits()
    return fit(splits), splits.texts("test")


@pytest.fixture
def bare_venv(tmp_path):
    """Makes a virtual environment holding only the given packages (linked from this one: no download),
    as on a device, and returns its python: anything else, TensorFlow included, cannot be imported there."""

    def make(*packages: str) -> str:
        folder = tmp_path / "bare-venv"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=120)
        site = Path(sysconfig.get_paths()["purelib"])
        target = next((folder / "lib").glob("python3*/site-packages"))
        for name in packages:
            if (site / name).exists():
                (target / name).symlink_to(site / name)
        return str(folder / "bin" / "python")

    return make
