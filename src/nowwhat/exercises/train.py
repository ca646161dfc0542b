"""Chapter 01's exercise: write a new hard case for the test vectors.

A test vector earns its place when it would catch a plausible bug: a tokenizer re-implemented the easy
way (in JavaScript, on a phone) must give other token ids on it than the spec does. An ordinary sentence
is tokenized the same either way, so it proves nothing. The check asks two things of the text: every
runtime chapter 01 exports agrees on it (Keras, the serving SavedModel on raw text, the core SavedModel
fed by the exported `tokenizer.py`), and at least one of the EASY_WAYS gets its ids wrong.
"""

from __future__ import annotations

import importlib.util
import json
import re
import string
from collections.abc import Callable
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import NamedTuple

from nowwhat import tokenizer as spec
from nowwhat.exercises import Verdict, not_yet, right
from nowwhat.model import SEQUENCE_LENGTH

TOLERANCE = 1e-5  # how closely float32 runtimes must agree with Keras (the model contract)


class Steps(NamedTuple):
    """A tokenizer as its four steps; the word pairs and the vocabulary lookup are the same for all."""

    lower: Callable[[str], str]
    strip: Callable[[str], str]
    split: Callable[[str], list[str]]
    cut: Callable[[list[int]], list[int]]


_SPLIT = re.compile(f"[{re.escape(spec.WHITESPACE)}]+")
SPEC = Steps(
    lower=lambda s: s.translate(str.maketrans(string.ascii_uppercase, string.ascii_lowercase)),
    strip=lambda s: s.translate(str.maketrans("", "", spec.STRIP_CHARS)),
    split=lambda s: [w for w in _SPLIT.split(s) if w],
    cut=lambda ids: ids[:SEQUENCE_LENGTH],
)

#: Plausible re-implementations, each with one step done the easy way.
EASY_WAYS = {
    "lowercases all of Unicode (str.lower, toLowerCase)": SPEC._replace(lower=str.lower),
    "splits on every Unicode space (Python's str.split())": SPEC._replace(split=str.split),
    "splits on the space character only (split(' ') keeps empty words)": SPEC._replace(
        split=lambda s: s.split(" ")),
    "deletes all but letters, digits and spaces (a regex like [^\\w\\s])": SPEC._replace(
        strip=lambda s: re.sub(r"[^\w\s]", "", s)),
    "replaces punctuation with a space instead of deleting it": SPEC._replace(
        strip=lambda s: s.translate(str.maketrans(spec.STRIP_CHARS, " " * len(spec.STRIP_CHARS)))),
    "keeps the last 600 ids instead of the first (like keras.utils.pad_sequences)": SPEC._replace(
        cut=lambda ids: ids[-SEQUENCE_LENGTH:]),
}


def tokens(text: str, steps: Steps = SPEC) -> list[str]:
    """Words, then adjacent word pairs, as `steps` make them."""
    words = steps.split(steps.strip(steps.lower(text)))
    return words + [f"{a} {b}" for a, b in pairwise(words)]


def encode(text: str, steps: Steps, index: dict[str, int]) -> list[int]:
    ids = steps.cut([index.get(t, spec.OOV_ID) for t in tokens(text, steps)])
    return ids + [spec.PAD_ID] * (SEQUENCE_LENGTH - len(ids))


def check_hard_case(text, export: Path | None = None) -> Verdict:
    """Right when every exported runtime agrees on `text` and an easy-way tokenizer gets its ids wrong."""
    if not isinstance(text, str):
        return not_yet(f"my_hard_case is not a string but {type(text).__name__}: make it a review's text.")
    run = _runtimes(*_export_key(export))
    if text in run.vectors:
        return not_yet(f"the test vectors already have this text ({run.vectors[text]!r}): write a new one "
                       "that a tokenizer written the easy way would get wrong.")
    ids, label, disagreement = run.compare(text)
    if disagreement:
        return not_yet(f"{disagreement} on this text: you found a real bug, report it with the text.")
    caught = [way for way, steps in EASY_WAYS.items() if encode(text, steps, run.index) != ids]
    if caught:
        return right(f"Keras, the serving SavedModel and the core model fed by tokenizer.py agree on it "
                     f"(label {label!r}), and its ids catch a tokenizer that "
                     f"{'; and one that '.join(caught)}.")
    hidden = [way for way, steps in EASY_WAYS.items() if tokens(text, steps) != tokens(text)]
    if hidden:
        return not_yet(f"a tokenizer that {hidden[0]} gets its tokens wrong, but the wrong and the right "
                       "tokens have the same ids (out of vocabulary), so no test would notice: make the "
                       "mistake hit words the vocabulary knows.")
    return not_yet("every easy-way tokenizer gives the same ids as the spec on this text, so it would catch "
                   "no bug: use what the spec treats specially (capitals beyond A-Z, odd spaces, "
                   "punctuation inside words, emoji, more than 600 tokens).")


class _Runtimes:
    """The runtimes chapter 01 exports, loaded once per export: what every hard case must satisfy."""

    def __init__(self, export: Path):
        import tensorflow as tf

        from nowwhat.training import load_trained

        self.keras = load_trained()[0]
        self.serving = tf.saved_model.load(str(export / "serving" / "reviews" / "1")).signatures[
            "serving_default"]
        self.core = tf.saved_model.load(str(export / "core" / "saved_model")).signatures["serving_default"]
        self.tokenizer = _shipped_tokenizer(export / "tokenizer")
        self.index = {t: i for i, t in enumerate(self.tokenizer.vocabulary) if i > spec.OOV_ID}
        self.labels = json.loads((export / "labels.json").read_text())
        vectors = json.loads((export / "tokenizer" / "test_vectors.json").read_text())
        self.vectors = {case["text"]: case["name"] for case in vectors}

    def compare(self, text: str) -> tuple[list[int], str, str | None]:
        """(ids from tokenizer.py, Keras' label, what disagrees with what in words or None)."""
        import numpy as np
        import tensorflow as tf

        from nowwhat.training import predict

        ids = self.tokenizer.encode(text)
        keras = predict(self.keras, [text])[0]
        label = self.labels[int(np.argmax(keras))]
        served = self.serving(text=tf.constant([text]))
        core = self.core(token_ids=tf.constant([ids], tf.int32))["probabilities"].numpy()[0]
        if ids != self.keras.get_layer("vectorizer")(tf.constant([text])).numpy()[0].tolist():
            return ids, label, "tokenizer.py and the TensorFlow layer give different ids"
        if served["label"].numpy()[0].decode() != label:
            return ids, label, "the serving SavedModel and Keras give different labels"
        for name, probabilities in (("the serving SavedModel", served["probabilities"].numpy()[0]),
                                    ("the core model fed by tokenizer.py", core)):
            if np.abs(probabilities - keras).max() > TOLERANCE:
                return ids, label, f"{name} and Keras differ by more than {TOLERANCE:g}"
        return ids, label, None


def _shipped_tokenizer(folder: Path):
    """The exported copy of tokenizer.py (what an edge device gets), not the package's module."""
    found = importlib.util.spec_from_file_location("shipped_tokenizer", folder / "tokenizer.py")
    module = importlib.util.module_from_spec(found)
    found.loader.exec_module(module)
    return module.Tokenizer.from_spec(folder / "tokenizer.json")


def _export_key(export: Path | None) -> tuple[Path, str]:
    """The export folder and when it was written, so that a new export is loaded afresh."""
    from nowwhat.export import load_export
    from nowwhat.paths import export_dir

    folder = Path(export or export_dir())
    return folder, load_export(folder)["created"]


@lru_cache(maxsize=1)
def _runtimes(export: Path, created: str) -> _Runtimes:
    return _Runtimes(export)
