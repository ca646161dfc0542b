"""Two models that are not the workshop's, made here in seconds, with three labels each: a Keras core that
takes token ids (with a tokenizer of its own) and a scikit-learn text pipeline — the inputs `convert.py`
asks for."""

from __future__ import annotations

import json
from pathlib import Path

LABELS = ["negative", "neutral", "positive"]
SEQUENCE_LENGTH = 6
EXAMPLES = [
    ("awful stale coffee", 0), ("broken and bad", 0), ("terrible taste never again", 0),
    ("it is a tea", 1), ("arrived on tuesday", 1), ("the box is brown", 1),
    ("lovely rich coffee", 2), ("great tea love it", 2), ("best snack ever", 2),
]

#: The pipeline learns from these too, and is asked about other-cased forms of them: scikit-learn's words
#: are Unicode words (the converted model must find "brûlée" and "σοφια" in them, as scikit-learn does).
NON_ASCII = [("crème brûlée très bien", 2), ("σοφια café froid", 0)]
ASKED = ["Crème BRÛLÉE, très bien!", "ΣΟΦΙΑ: café_froid 42"]

#: Your own preprocessing, as the bundle carries it: lowercase, words of letters, an id per known word.
TOKENIZER_PY = '''"""Lowercase, words of letters, one id per known word (0 pads, 1 is unknown), padded."""
import json
import re
from pathlib import Path

PAD_ID, OOV_ID = 0, 1


class Tokenizer:
    def __init__(self, words, sequence_length):
        self.sequence_length = sequence_length
        self.ids = {word: i for i, word in enumerate(words, start=2)}

    @classmethod
    def from_spec(cls, path):
        spec = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(spec["words"], spec["sequence_length"])

    def encode(self, text):
        words = re.findall(r"[a-z]+", text.lower())[: self.sequence_length]
        ids = [self.ids.get(word, OOV_ID) for word in words]
        return ids + [PAD_ID] * (self.sequence_length - len(ids))
'''


def make_keras(folder: Path) -> dict[str, list[float]]:
    """<folder>/core (SavedModel: int32 token ids in, `probabilities` out) and <folder>/tokenizer
    (tokenizer.py, tokenizer.json with the labels); returns Keras' probabilities per example text."""
    import keras
    import numpy as np
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    words = sorted({word for text, _ in EXAMPLES for word in text.split()})
    tokenizer = folder / "tokenizer"
    tokenizer.mkdir(parents=True)
    (tokenizer / "tokenizer.py").write_text(TOKENIZER_PY)
    spec = {"words": words, "sequence_length": SEQUENCE_LENGTH, "labels": LABELS}
    (tokenizer / "tokenizer.json").write_text(json.dumps(spec))
    index = {word: i for i, word in enumerate(words, start=2)}
    rows = [[index[word] for word in text.split()] for text, _ in EXAMPLES]
    ids = np.array([row + [0] * (SEQUENCE_LENGTH - len(row)) for row in rows], np.int32)
    inputs = keras.Input(shape=(SEQUENCE_LENGTH,), dtype="int32")
    vectors = keras.layers.Embedding(len(words) + 2, 8)(inputs)
    hidden = keras.layers.Dense(8, activation="relu")(keras.layers.GlobalAveragePooling1D()(vectors))
    core = keras.Model(inputs, keras.layers.Dense(len(LABELS), activation="softmax")(hidden))
    core.compile("adam", "sparse_categorical_crossentropy")
    core.fit(ids, np.array([y for _, y in EXAMPLES]), epochs=30, verbose=0)

    archive = keras.export.ExportArchive()  # Keras' way to write a SavedModel with a named signature
    archive.track(core)

    @tf.function(input_signature=[tf.TensorSpec([None, SEQUENCE_LENGTH], tf.int32, name="token_ids")])
    def serve(token_ids):
        return {"probabilities": core(token_ids, training=False)}

    archive.add_endpoint("serving_default", serve)
    archive.write_out(str(folder / "core"), verbose=False)
    return dict(zip([text for text, _ in EXAMPLES], core.predict(ids, verbose=0).tolist(), strict=True))


def make_sklearn(folder: Path) -> dict[str, list[float]]:
    """<folder>/pipeline.joblib (TF-IDF over words and word pairs, then logistic regression); returns
    scikit-learn's probabilities per text it learnt from and per ASKED text."""
    import joblib
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    texts, labels = zip(*EXAMPLES, *NON_ASCII, strict=True)
    pipeline = make_pipeline(TfidfVectorizer(ngram_range=(1, 2)), LogisticRegression(C=10))
    pipeline.fit(texts, labels)
    joblib.dump(pipeline, folder / "pipeline.joblib")
    asked = [*texts, *ASKED]
    return dict(zip(asked, pipeline.predict_proba(asked).tolist(), strict=True))
