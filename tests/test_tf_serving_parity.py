"""Parity: what clients get over REST and gRPC equals the model itself, on all 1,000 test reviews.

Runs against the same server as the conformance suite ($TFSERVING_URL, $TFSERVING_BIN, or the
development server). Version 1 must equal the trained Keras model to 1e-5; version 2 (the canary)
must equal its own SavedModel run in-process.
"""

from __future__ import annotations

import numpy as np
import pytest
from tfserving_demo.grpc_client import GrpcClient
from tfserving_demo.rest_client import RestClient
from tfserving_demo.run import connect

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def served(exports):
    from nowwhat.tf_serving.models import load, models_dir

    load()
    with connect(models_dir()) as server:
        rest, grpc = RestClient(server.rest_url, server.model), GrpcClient(server.grpc_target, server.model)
        yield rest, grpc, models_dir()
        rest.close()
        grpc.close()


@pytest.fixture(scope="module")
def test_texts():
    from nowwhat.data import load_splits

    return load_splits().texts("test")


def _in_batches(call, texts, size=100):
    return np.concatenate(
        [np.asarray(call(texts[i : i + size]), dtype=np.float64) for i in range(0, len(texts), size)]
    )


def test_stable_equals_keras_over_rest_and_grpc(served, test_texts, trained):
    from nowwhat.metrics import agreement
    from nowwhat.training import load_trained, predict

    rest, grpc, _ = served
    assert len(test_texts) == 1000
    keras = predict(load_trained()[0], test_texts)
    via_rest = _in_batches(lambda t: rest.probabilities(t, label="stable"), test_texts)
    via_grpc = _in_batches(lambda t: grpc.predict(t, label="stable")["probabilities"], test_texts)
    for served_probabilities in (via_rest, via_grpc):
        result = agreement(keras, served_probabilities)
        assert result["same_label"] == 1.0
        assert result["max_abs_diff"] <= TOLERANCE, result


def test_canary_equals_version_2_savedmodel(served, test_texts):
    import tensorflow as tf

    rest, grpc, models = served
    signature = tf.saved_model.load(str(models / "reviews" / "2")).signatures["serving_default"]
    local = _in_batches(lambda t: signature(text=tf.constant(t))["probabilities"].numpy(), test_texts)
    via_rest = _in_batches(lambda t: rest.probabilities(t, label="canary"), test_texts)
    via_grpc = _in_batches(lambda t: grpc.predict(t, label="canary")["probabilities"], test_texts)
    assert np.abs(local - via_rest).max() <= TOLERANCE
    assert np.abs(local - via_grpc).max() <= TOLERANCE
    stable = _in_batches(lambda t: rest.probabilities(t, label="stable"), test_texts)
    assert np.abs(stable - via_rest).max() > 0.01  # the canary really is a different model
