"""MLflow on the workshop's two models, registered by the demo's own step: the champion alias serves
Keras' probabilities, the challenger scikit-learn's, both through `mlflow models serve` on loopback, and
bad input is a 400 without a stack trace."""

from __future__ import annotations

import numpy as np
import pytest
import requests

from nowwhat.model_registry.registry import NAME, Scorer, ensure_registered, registry_dir

pytestmark = pytest.mark.slow
BATCH = 64  # the Keras pyfunc's limit per request


@pytest.fixture(scope="module")
def registered(exports):
    return ensure_registered(in_child=True)  # `python -m nowwhat mlflow register`, as a learner runs it


def test_both_versions_are_registered_with_their_aliases(registered):
    versions = registered["versions"]
    assert {kind: (made["version"], made["alias"]) for kind, made in versions.items()} == {
        "keras": ("1", "champion"), "sklearn": ("2", "challenger")}  # fmt: skip
    assert (registry_dir() / "models" / NAME).is_dir()


def test_the_champion_answers_with_keras_probabilities_on_the_test_vectors(registered, test_vectors):
    with Scorer("champion") as scorer:
        got = np.array(scorer.predict([case["text"] for case in test_vectors]))
        bad = requests.post(scorer.url, json={"inputs": [1, 2]}, timeout=30)
    assert len(test_vectors) >= 50
    assert np.abs(got - np.array([case["probabilities"] for case in test_vectors])).max() <= 1e-5
    assert bad.status_code == 400 and "Expected type str" in bad.json()["message"]
    assert "stack_trace" not in bad.json()


def test_the_challenger_answers_with_scikit_learn_probabilities_on_every_test_review(registered, baseline):
    pipeline, texts = baseline
    with Scorer("challenger") as scorer:
        got = np.concatenate([scorer.predict(texts[i : i + BATCH]) for i in range(0, len(texts), BATCH)])
        bad = requests.post(scorer.url, data=b"not json", headers={"Content-Type": "application/json"},
                            timeout=30)  # fmt: skip
    assert len(texts) == 1000
    assert np.abs(got - pipeline.predict_proba(texts)).max() <= 1e-5
    assert bad.status_code == 400 and "stack_trace" not in bad.json()
