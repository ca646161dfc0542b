"""The trained model and its exports honour the contract every runtime relies on."""

import numpy as np
import pytest

from nowwhat.data import LABELS, load_splits
from nowwhat.metrics import classification_metrics
from nowwhat.paths import MODEL_NAME


@pytest.fixture(scope="module")
def serving(exports):
    import tensorflow as tf

    return tf.saved_model.load(str(exports / "serving" / MODEL_NAME / "1"))


@pytest.fixture(scope="module")
def reference(trained):
    from nowwhat.training import load_trained

    return load_trained()


@pytest.fixture(scope="module")
def test_texts():
    splits = load_splits()
    return splits.texts("test"), splits.label_ids("test")


def test_serving_signature_matches_the_contract(serving):
    import tensorflow as tf

    fn = serving.signatures["serving_default"]
    (spec,) = fn.structured_input_signature[1].values()
    assert spec.name == "text" and spec.dtype == tf.string and spec.shape.as_list() == [None]
    outputs = fn.structured_outputs
    assert outputs["probabilities"].dtype == tf.float32
    assert outputs["probabilities"].shape.as_list() == [None, len(LABELS)]
    assert outputs["label"].dtype == tf.string and outputs["label_id"].dtype == tf.int32


def test_core_signature_takes_token_ids(exports):
    import tensorflow as tf

    fn = tf.saved_model.load(str(exports / "core" / "saved_model")).signatures["serving_default"]
    (spec,) = fn.structured_input_signature[1].values()
    assert spec.name == "token_ids" and spec.dtype == tf.int32 and spec.shape.as_list() == [None, 600]
    assert list(fn.structured_outputs) == ["probabilities"]


def test_serving_model_takes_raw_text_and_matches_keras(serving, reference, test_texts):
    import tensorflow as tf

    from nowwhat.training import predict

    texts, _ = test_texts
    out = serving.signatures["serving_default"](text=tf.constant(texts))
    probabilities = out["probabilities"].numpy()
    np.testing.assert_allclose(probabilities, predict(reference[0], texts), atol=1e-5)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    labels = [label.decode() for label in out["label"].numpy()]
    assert labels == [LABELS[i] for i in probabilities.argmax(axis=1)]
    assert (out["label_id"].numpy() == probabilities.argmax(axis=1)).all()


def test_text_without_tokens_gets_one_finite_answer_not_nan(serving):
    """No tokens: the mean is guarded (max(count, 1)), so the answer is softmax(output bias), never NaN."""
    import tensorflow as tf

    out = serving.signatures["serving_default"](text=tf.constant(["", " \t ", "!!! ..."]))
    probabilities = out["probabilities"].numpy()
    assert np.isfinite(probabilities).all()
    np.testing.assert_allclose(probabilities, probabilities[[0, 0, 0]], atol=1e-7)


def test_core_model_matches_keras_on_test_vectors(exports, test_vectors):
    import tensorflow as tf

    fn = tf.saved_model.load(str(exports / "core" / "saved_model")).signatures["serving_default"]
    ids = np.zeros((len(test_vectors), 600), dtype=np.int32)
    for row, case in zip(ids, test_vectors, strict=True):
        row[: len(case["ids"])] = case["ids"]
    probabilities = fn(token_ids=tf.constant(ids))["probabilities"].numpy()
    np.testing.assert_allclose(probabilities, [c["probabilities"] for c in test_vectors], atol=1e-5)


def test_accuracy_bar_on_the_untouched_test_split(serving, test_texts, trained):
    import tensorflow as tf

    texts, labels = test_texts
    probabilities = serving.signatures["serving_default"](text=tf.constant(texts))["probabilities"]
    metrics = classification_metrics(labels, probabilities.numpy())
    assert metrics["accuracy"] >= 0.80
    assert metrics == trained["metrics"]["test"]
    assert 0.7 < metrics["macro_f1"] <= metrics["accuracy"]


def test_float32_weights_fit_in_2_mb(reference):
    assert reference[1].count_params() * 4 <= 2 * 1024 * 1024


def test_manifests_say_where_artifacts_came_from(trained, exports):
    import json

    export = json.loads((exports / "manifest.json").read_text())
    assert export["data_fingerprint"] == trained["data_fingerprint"] == load_splits().fingerprint
    assert export["labels"] == trained["labels"] == list(LABELS)
    assert json.loads((exports / "labels.json").read_text()) == list(LABELS)
    assert export["metrics"]["test"]["accuracy"] == trained["metrics"]["test"]["accuracy"]


@pytest.mark.slow
def test_training_is_deterministic_with_a_seed():
    from nowwhat.model import TrainConfig, train

    splits = load_splits()
    first, second, other = (train(splits, TrainConfig(epochs=2, seed=s), verbose=0) for s in (7, 7, 8))
    for a, b in zip(first.core.get_weights(), second.core.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first.core.get_weights()[0], other.core.get_weights()[0])
