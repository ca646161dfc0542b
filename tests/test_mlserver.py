"""The workshop's models behind the Open Inference Protocol (V2) with MLServer (demos/mlserver, in its own
environment): Keras' probabilities over REST with batching off and on, scikit-learn's through MLServer's
sklearn runtime, the workshop tokenizer's refusal of a review without words, and the batching
benchmark's accounting (not its speed: that is `make bench-mlserver`)."""

from __future__ import annotations

import numpy as np
import pytest
import requests

from nowwhat.open_inference import bench
from nowwhat.open_inference.server import MODELS, SKLEARN_MODEL, MLServer, infer_body, probabilities

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(exports):
    with MLServer() as running:
        yield running


@pytest.mark.parametrize("model", MODELS)
def test_v2_answers_are_keras_on_the_test_vectors(server, test_vectors, model):
    cases = [case for case in test_vectors if case["ids"]]  # the runtime refuses texts with no words
    answer = requests.post(server.infer_url(model), json=infer_body([c["text"] for c in cases]), timeout=60)
    assert answer.status_code == 200, answer.text
    got = np.array(probabilities(answer.json()))
    assert len(cases) >= 50 and np.abs(got - np.array([c["probabilities"] for c in cases])).max() <= 1e-5


def test_the_sklearn_runtime_answers_with_scikit_learn_probabilities_on_every_test_review(server, baseline):
    pipeline, texts = baseline
    rows = []
    for start in range(0, len(texts), 64):
        answer = requests.post(server.infer_url(SKLEARN_MODEL), json=infer_body(texts[start : start + 64]),
                               timeout=60)  # fmt: skip
        assert answer.status_code == 200, answer.text
        (output,) = answer.json()["outputs"]
        rows += np.reshape(output["data"], output["shape"]).tolist()
    assert len(texts) == 1000 and np.abs(np.array(rows) - pipeline.predict_proba(texts)).max() <= 1e-5
    refused = requests.post(server.infer_url(SKLEARN_MODEL), json=infer_body([]), timeout=60)
    assert refused.status_code == 400 and "no reviews" in refused.json()["error"]


def test_a_review_without_words_is_a_400_that_says_so(server):
    answer = requests.post(server.infer_url("reviews"), json=infer_body(["Fine.", "?!"]), timeout=60)
    assert answer.status_code == 400 and answer.json() == {
        "error": "review 1 has no words to classify (only spaces and punctuation)"
    }


def test_the_benchmark_counts_every_review_it_sent(server):
    texts = ["Great coffee.", "Stale tea."]
    before = {model: bench.histogram(server, model) for model in MODELS}
    loads = {model: bench.load(server.infer_url(model), texts, clients=4, seconds=1.0) for model in MODELS}
    for model in MODELS:
        formed = bench.batches(before[model], bench.histogram(server, model))
        assert loads[model]["errors"] == 0 and formed["reviews"] == loads[model]["requests"] > 0
        assert sum(formed["sizes"].values()) == formed["calls"]
    assert bench.batches(before["reviews"], bench.histogram(server, "reviews"))["sizes"].keys() == {"≤1"}
