"""ONNX Runtime on the workshop's two models, through the demo's own client: the Keras core (token ids,
the exported tokenizer) equal to Keras, the scikit-learn baseline (text in) equal to scikit-learn, and
both in an environment that holds nothing but onnxruntime and numpy."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest

from nowwhat.onnx_runtime.convert import bundle_dir, classifier, ensure_converted
from nowwhat.paths import REPO_ROOT

pytestmark = pytest.mark.slow
CLIENT = REPO_ROOT / "demos" / "onnx" / "classify.py"


@pytest.fixture(scope="module")
def bundles(exports):
    return ensure_converted()


def test_the_keras_bundle_gives_keras_probabilities_on_the_test_vectors(bundles, test_vectors):
    cases = [case for case in test_vectors if case["ids"]]  # the client refuses texts with no words
    got = classifier("keras").predict([case["text"] for case in cases])
    assert len(cases) >= 50
    assert np.abs(got - np.array([case["probabilities"] for case in cases])).max() <= 1e-5


def test_the_sklearn_bundle_gives_scikit_learn_probabilities_on_every_test_review(bundles, baseline):
    pipeline, texts = baseline
    client = classifier("sklearn")
    assert client.takes_text and client.labels == ["great", "other"]
    gap = np.abs(client.predict(texts) - pipeline.predict_proba(texts)).max()
    assert len(texts) == 1000 and gap <= 1e-5, gap


def test_both_run_in_a_venv_holding_only_onnxruntime_and_numpy(
    bundles, baseline, test_vectors, tmp_path, bare_venv
):
    """A copy of the client and a bundle, with a Python that cannot import tensorflow, keras, sklearn or
    nowwhat at all: they are not needed, not just not imported. (The packages are linked from the
    workshop's environment: no download.)"""
    python = bare_venv("onnxruntime", "numpy", "numpy.libs")
    for module in ("tensorflow", "keras", "sklearn", "nowwhat"):
        check = subprocess.run([python, "-c", f"import {module}"], capture_output=True, timeout=60)
        assert check.returncode != 0 and f"No module named '{module}'".encode() in check.stderr
    cases = [c for c in test_vectors if c["ids"] and "\n" not in c["text"] and "\r" not in c["text"]]
    texts = [case["text"] for case in cases]
    expected = {
        "keras": [case["probabilities"] for case in cases],
        "sklearn": baseline[0].predict_proba(texts).tolist(),
    }
    for model, probabilities in expected.items():
        device = tmp_path / model
        device.mkdir()
        shutil.copy(CLIENT, device / "classify.py")
        shutil.copytree(bundle_dir(model), device / "model")  # no --model-dir: model/ beside the client
        stdin = "".join(text + "\n" for text in texts)
        command = [python, "classify.py", "--json"]
        done = subprocess.run(command, cwd=device, input=stdin, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        answers = [list(json.loads(line)["probabilities"].values()) for line in done.stdout.splitlines()]
        assert len(answers) == len(texts) >= 50
        assert np.abs(np.array(answers) - np.array(probabilities)).max() <= 1e-5, model  # 6 decimals printed
