"""A model that is not the workshop's, made here in seconds: another name, three labels, a core that
takes token ids, and a tokenizer of its own (not the workshop's) — the inputs `convert.py` asks for."""

from __future__ import annotations

import json
from pathlib import Path

LABELS = ["negative", "neutral", "positive"]
SEQUENCE_LENGTH = 8
EXAMPLES = [
    ("awful stale coffee", 0), ("broken and bad", 0), ("terrible taste never again", 0),
    ("it is a tea", 1), ("arrived on tuesday", 1), ("the box is brown", 1),
    ("lovely rich coffee", 2), ("great tea love it", 2), ("best snack ever", 2),
]

#: Your own preprocessing, as the bundle carries it: lowercase, split on whitespace, look words up.
TOKENIZER_PY = '''"""Lowercase, split on whitespace, one id per word (0 pads, 1 is unknown), padded."""
import json
from pathlib import Path

PAD_ID, OOV_ID = 0, 1


class Tokenizer:
    def __init__(self, vocabulary, sequence_length):
        self.sequence_length = sequence_length
        self.index = {word: i for i, word in enumerate(vocabulary) if i > OOV_ID}

    @classmethod
    def from_spec(cls, path):
        spec = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(spec["vocabulary"], spec["sequence_length"])

    def encode(self, text):
        ids = [self.index.get(word, OOV_ID) for word in text.lower().split()][: self.sequence_length]
        return ids + [PAD_ID] * (self.sequence_length - len(ids))
'''


def make(folder: Path) -> dict[str, list[float]]:
    """Write <folder>/core (SavedModel: token ids in, probabilities out), <folder>/tokenizer
    (tokenizer.py, tokenizer.json) and <folder>/calibration.txt; return Keras' probabilities per text."""
    import keras
    import numpy as np
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    words = sorted({word for text, _ in EXAMPLES for word in text.split()})
    vocabulary = ["", "[UNK]", *words]
    tokenizer = folder / "tokenizer"
    tokenizer.mkdir(parents=True)
    (tokenizer / "tokenizer.py").write_text(TOKENIZER_PY)
    spec = {"vocabulary": vocabulary, "sequence_length": SEQUENCE_LENGTH, "labels": LABELS}
    (tokenizer / "tokenizer.json").write_text(json.dumps(spec))
    index = {word: i for i, word in enumerate(vocabulary)}
    rows = [[index[word] for word in text.split()] for text, _ in EXAMPLES]
    ids = np.array([row + [0] * (SEQUENCE_LENGTH - len(row)) for row in rows], np.int32)
    # Mean of the embeddings of the real tokens → softmax, with the mean written out (as the workshop's
    # model does): the ops convert.py keeps in float32 for int8 by default.
    inputs = keras.Input(shape=(SEQUENCE_LENGTH,), dtype="int32")
    real = keras.ops.expand_dims(keras.ops.cast(keras.ops.not_equal(inputs, 0), "float32"), -1)
    vectors = keras.layers.Embedding(len(vocabulary), 8)(inputs)
    mean = keras.ops.sum(vectors * real, axis=1) / keras.ops.maximum(keras.ops.sum(real, axis=1), 1.0)
    core = keras.Model(inputs, keras.layers.Dense(len(LABELS), activation="softmax")(mean))
    core.compile("adam", "sparse_categorical_crossentropy")
    core.fit(ids, np.array([y for _, y in EXAMPLES]), epochs=20, verbose=0)

    archive = keras.export.ExportArchive()  # Keras' way to write a SavedModel with a named signature
    archive.track(core)

    @tf.function(input_signature=[tf.TensorSpec([None, SEQUENCE_LENGTH], tf.int32, name="token_ids")])
    def serve(token_ids):
        return {"probabilities": core(token_ids, training=False)}

    archive.add_endpoint("serving_default", serve)
    archive.write_out(str(folder / "core"), verbose=False)
    (folder / "calibration.txt").write_text("\n".join(text for text, _ in EXAMPLES) + "\n")
    return dict(zip([text for text, _ in EXAMPLES], core.predict(ids, verbose=0).tolist(), strict=True))
