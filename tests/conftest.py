"""Shared fixtures. Artifacts are built once per session by the package's own CLI, if missing. (Which
tests share this build folder and which have their own: ../conftest.py.)"""

from __future__ import annotations

import json
import subprocess
import sys

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
