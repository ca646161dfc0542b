"""The tokenizer spec in plain Python (standard library only), for clients that cannot run TensorFlow.

It reproduces Keras `TextVectorization(standardize="lower_and_strip_punctuation", split="whitespace",
ngrams=2, output_sequence_length=600)` exactly; the shared test vectors prove it. The rules:

1. Lowercase ASCII letters A–Z only (TensorFlow's `tf.strings.lower` leaves É, Ä, Σ … unchanged,
   unlike Python's `str.lower` or JavaScript's `toLowerCase`).
2. Delete every character in STRIP_CHARS (ASCII punctuation). Nothing else is removed: non-ASCII
   letters, digits, emoji and HTML tag names stay (`<br />` becomes `br`).
3. Split on runs of ASCII whitespace (space, \\t, \\n, \\v, \\f, \\r); drop empty pieces. Non-ASCII
   spaces such as U+00A0 do not split.
4. Tokens are all words in order, then all adjacent word pairs joined by one space, in order.
5. Look each token up in the vocabulary: index 0 is padding, 1 is out-of-vocabulary.
6. Truncate to SEQUENCE_LENGTH ids (so long texts lose their word pairs first), pad with 0.

This file is copied verbatim next to the exported vocabulary so an edge device needs nothing else.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

SPEC_VERSION = 1
STRIP_CHARS = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
WHITESPACE = " \t\n\v\f\r"
PAD_ID, OOV_ID = 0, 1

_STANDARDIZE = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz", STRIP_CHARS)
_SPLIT = re.compile(f"[{re.escape(WHITESPACE)}]+")


def standardize(text: str) -> str:
    return text.translate(_STANDARDIZE)


def tokens(text: str, ngrams: int = 2) -> list[str]:
    words = [w for w in _SPLIT.split(standardize(text)) if w]
    grams = list(words)
    for width in range(2, ngrams + 1):
        grams += [" ".join(words[i : i + width]) for i in range(len(words) - width + 1)]
    return grams


class Tokenizer:
    """Text → fixed-length list of token ids, per the spec file written by `nowwhat export`."""

    def __init__(self, vocabulary: list[str], sequence_length: int, ngrams: int = 2):
        self.vocabulary = vocabulary
        self.sequence_length = sequence_length
        self.ngrams = ngrams
        self._index = {token: i for i, token in enumerate(vocabulary) if i > OOV_ID}

    @classmethod
    def from_spec(cls, path: str | Path) -> Tokenizer:
        spec = json.loads(Path(path).read_text(encoding="utf-8"))
        if spec.get("spec_version") != SPEC_VERSION:
            raise ValueError(
                f"{path} follows tokenizer spec v{spec.get('spec_version')}, this code implements "
                f"v{SPEC_VERSION}: export the model again"
            )
        return cls(spec["vocabulary"], spec["sequence_length"], spec["ngrams"])

    def encode(self, text: str) -> list[int]:
        ids = [self._index.get(t, OOV_ID) for t in tokens(text, self.ngrams)][: self.sequence_length]
        return ids + [PAD_ID] * (self.sequence_length - len(ids))
