"""The plain-Python tokenizer must reproduce the TensorFlow layer id for id, hard cases included."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nowwhat.tokenizer import OOV_ID, PAD_ID, Tokenizer, tokens


@pytest.fixture(scope="module")
def tokenizer(exports):
    return Tokenizer.from_spec(exports / "tokenizer" / "tokenizer.json")


@pytest.fixture(scope="module")
def vectorizer(trained):
    from nowwhat.training import load_trained

    return load_trained()[0].get_layer("vectorizer")


def test_every_shared_vector(tokenizer, test_vectors):
    hard = {"empty", "punctuation_run", "tabs_newlines", "non_ascii_letters", "emoji", "html", "long_text"}
    assert hard <= {case["name"] for case in test_vectors}
    for case in test_vectors:
        ids = tokenizer.encode(case["text"])
        assert len(ids) == tokenizer.sequence_length == 600
        assert ids[: len(case["ids"])] == case["ids"], case["name"]
        assert set(ids[len(case["ids"]) :]) <= {PAD_ID}, case["name"]


def test_hard_cases_behave_as_specified(test_vectors):
    by_name = {case["name"]: case for case in test_vectors}
    assert by_name["empty"]["ids"] == [] and by_name["whitespace_only"]["ids"] == []
    assert len(by_name["long_text"]["ids"]) == 600
    assert tokens("ÉCOLE Café") == ["École", "café", "École café"]  # ASCII-only lowercasing
    assert tokens("a\u00a0b c") == ["a\u00a0b", "c", "a\u00a0b c"]  # U+00A0 does not split
    assert tokens("<br />Yes!!") == ["br", "yes", "br yes"]
    assert tokens("Tasty.<br/>Yes") == ["tastybryes"]  # HTML glues words together


def test_unknown_words_map_to_oov(tokenizer):
    assert tokenizer.encode("zzqxv flurbnog")[:3] == [OOV_ID, OOV_ID, OOV_ID]


def test_spec_file_is_self_describing(exports):
    spec = json.loads((exports / "tokenizer" / "tokenizer.json").read_text())
    assert spec["vocabulary"][:2] == ["", "[UNK]"]
    assert spec["labels"] == ["great", "other"]
    assert "ASCII" in spec["rules"] and spec["sequence_length"] == 600


def test_spec_version_mismatch_is_refused(tmp_path, exports):
    spec = json.loads((exports / "tokenizer" / "tokenizer.json").read_text())
    spec["spec_version"] = 999
    (tmp_path / "t.json").write_text(json.dumps(spec))
    with pytest.raises(ValueError, match="export the model again"):
        Tokenizer.from_spec(tmp_path / "t.json")


# Text drawn from the characters that make tokenizers disagree: ASCII/Unicode case, punctuation,
# every kind of whitespace, accents, emoji, HTML brackets.
TRICKY = st.lists(
    st.sampled_from(
        [
            *"aAbBgGoOdD éÉßΣİ😍👍🏽\t\n\r\x0b\x0c\u00a0\u2003\u3000!?.,'\"-<>/&;:()[]_~0123",
            "great ",
            "not ",
            "good ",
            "coffee ",
            "<br />",
        ]
    ),
    max_size=60,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=TRICKY)
def test_matches_tensorflow_on_generated_text(text, tokenizer, vectorizer):
    import tensorflow as tf

    expected = vectorizer(tf.constant([text])).numpy()[0].tolist()
    assert tokenizer.encode(text) == expected
