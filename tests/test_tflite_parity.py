"""Through the edge client, every quantization level gives Keras' answers within its documented tolerance.

Tolerances (max |Δp| against Keras) live in `nowwhat.tflite.TOLERANCES`, with the reasoning next to them:
float32 1e-5, float16 1e-3, dynamic range 3e-2, full-integer int8 5e-2 for reviews of at least
INT8_MIN_WORDS words (shorter ones drift further, and one word cannot be computed in int8 at all).
"""

import numpy as np
import pytest

from nowwhat.data import load_splits
from nowwhat.tflite import INT8_MIN_WORDS, LEVELS, TOLERANCES, bundle_dir, ensure_converted
from nowwhat.tflite_eval import classifier, client, evaluate, reference_reviews, short_reviews

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bundle(exports):
    ensure_converted()
    return bundle_dir()


@pytest.fixture(scope="module")
def edge(bundle):
    return {level: classifier(level, bundle) for level in LEVELS}


@pytest.fixture(scope="module")
def table(bundle):
    """Every level on the 1,000 test reviews against Keras (the same figures as the benchmark's)."""
    return {row["level"]: row for row in evaluate(reference_reviews())}


def test_the_client_tokenizes_every_test_vector_like_tensorflow(edge, test_vectors):
    tokenizer = edge["float32"].tokenizer
    for case in test_vectors:
        ids = tokenizer.encode(case["text"])
        assert ids[: len(case["ids"])] == case["ids"], case["name"]
        assert not any(ids[len(case["ids"]) :]), case["name"]


@pytest.mark.parametrize("level", LEVELS)
def test_test_vectors_match_keras_within_the_level_tolerance(level, edge, test_vectors):
    cases = [c for c in test_vectors if c["ids"]]  # no words: the client refuses to answer
    if level == "int8":
        cases = [c for c in cases if len(c["text"].split()) >= INT8_MIN_WORDS]
    assert len(cases) >= 50
    probabilities = edge[level].predict([c["text"] for c in cases])
    gap = np.abs(probabilities - np.array([c["probabilities"] for c in cases])).max()
    assert gap <= TOLERANCES[level], f"{level}: max |Δp| {gap:.2e} > {TOLERANCES[level]:.0e}"


@pytest.mark.parametrize("level", LEVELS)
def test_accuracy_on_the_test_split_is_recorded_and_within_one_point(level, table, record_property):
    row = table[level]
    for key in ("test_accuracy", "same_label", "max_abs_diff", "bytes"):
        record_property(f"{level}_{key}", row[key])
    assert row["reviews"] == 1000
    assert row["keras_test_accuracy"] - row["test_accuracy"] <= 0.01
    assert row["max_abs_diff"] <= TOLERANCES[level]
    assert row["same_label"] >= (1.0 if level == "float32" else 0.99)


def test_full_integer_int8_cannot_compute_a_one_word_review(edge):
    """The token count (1 … 600) is stored in steps of 2.35: one token rounds to zero, and DIV refuses."""
    with pytest.raises(client().ClientError, match=r"int8 model \(.*DIV.*\); try --level dynamic"):
        edge["int8"].predict(["Delicious"])
    assert edge["dynamic"].predict(["Delicious"]).shape == (1, 2)


def test_int8_drifts_on_short_reviews_and_the_float_levels_do_not(edge):
    rows = short_reviews(words=(1, 2, 20), n=60, levels=("dynamic", "int8"))
    by = {(r["words"], r["level"]): r for r in rows}
    assert by[1, "int8"]["failed"] == by[1, "int8"]["reviews"] == 60
    assert by[2, "int8"]["max_abs_diff"] > 0.1  # two words: the count 3 is stored as 2.35
    assert by[20, "int8"]["max_abs_diff"] <= TOLERANCES["int8"]
    for words in (1, 2, 20):
        assert by[words, "dynamic"]["failed"] == 0
        assert by[words, "dynamic"]["max_abs_diff"] <= TOLERANCES["dynamic"]


@pytest.mark.parametrize("level", LEVELS)
def test_a_batch_gives_exactly_what_single_reviews_give(level, edge):
    texts = load_splits().texts("test")[:150]
    batched = edge[level].predict(texts)  # 64, 64, 22: the interpreter is resized between calls
    single = np.concatenate([edge[level].predict([t]) for t in texts])
    assert np.array_equal(batched, single)
