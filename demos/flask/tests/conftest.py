"""Every test in this folder serves the small model of small_model.py: the demo proven on a model that is
not the workshop's (another name, three labels), as yours will be."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the demo's modules, from any folder
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from small_model import NAME, export


@pytest.fixture(scope="session")
def small_model(tmp_path_factory) -> tuple[Path, dict[str, list[float]]]:
    """The small model as versions 1 and 2 (the API serves the highest), and Keras' answers."""
    folder = tmp_path_factory.mktemp("model")
    expected = export(folder, version=1)
    shutil.copytree(folder / "serving" / NAME / "1", folder / "serving" / NAME / "2")
    return folder, expected


@pytest.fixture(scope="session")
def model_dir(small_model) -> Path:
    return small_model[0]


@pytest.fixture(scope="session")
def expected(small_model) -> dict[str, list[float]]:
    return small_model[1]
