"""A model that is not the workshop's, made here in a second with the `onnx` package (no TensorFlow):
another name, three labels, a tokenizer of its own — a bundle as demos/onnx's convert.py writes it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

LABELS = ["negative", "neutral", "positive"]
WORDS = ["awful", "stale", "fine", "tea", "lovely", "great"]
SEQUENCE_LENGTH = 5
TOKENIZER_PY = '''"""Lowercase, split on whitespace, one id per known word (0 pads, 1 is unknown), padded."""
import json
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
        ids = [self.ids.get(word, OOV_ID) for word in text.lower().split()][: self.sequence_length]
        return ids + [PAD_ID] * (self.sequence_length - len(ids))
'''


def weights():
    """An embedding per id (pad, unknown, the words) and a dense layer to the three labels."""
    rng = np.random.default_rng(0)
    return rng.normal(size=(len(WORDS) + 2, 4)).astype(np.float32), rng.normal(size=(4, 3)).astype(np.float32)


def expected(texts: list[str]) -> np.ndarray:
    """What the model computes, in numpy: mean of the embeddings of all positions, dense, softmax."""
    embedding, dense = weights()
    index = {word: i for i, word in enumerate(WORDS, start=2)}
    ids = [[index.get(w, 1) for w in text.lower().split()][:SEQUENCE_LENGTH] for text in texts]
    ids = np.array([row + [0] * (SEQUENCE_LENGTH - len(row)) for row in ids])
    logits = embedding[ids].mean(axis=1) @ dense
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def make_pipeline(path: Path):
    """A TF-IDF + logistic regression pipeline on a dozen reviews, saved with joblib at `path`."""
    import joblib
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline as pipeline_of

    texts = ["awful stale tea", "stale awful", "awful", "fine tea", "fine", "tea fine fine",
             "lovely great tea", "great", "lovely lovely"]  # fmt: skip
    labels = ["negative"] * 3 + ["neutral"] * 3 + ["positive"] * 3
    pipeline = pipeline_of(TfidfVectorizer(), LogisticRegression()).fit(texts, labels)
    joblib.dump(pipeline, path)
    return pipeline


def make_bundle(folder: Path) -> Path:
    """<folder> with model.onnx (int32 token ids in, `probabilities` out), labels, manifest, tokenizer."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    embedding, dense = weights()
    graph = helper.make_graph(
        [
            helper.make_node("Gather", ["embedding", "token_ids"], ["vectors"]),
            helper.make_node("ReduceMean", ["vectors", "axes"], ["mean"], keepdims=0),
            helper.make_node("MatMul", ["mean", "dense"], ["logits"]),
            helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
        ],
        "small_reviews",
        [helper.make_tensor_value_info("token_ids", TensorProto.INT32, [None, SEQUENCE_LENGTH])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, len(LABELS)])],
        [
            numpy_helper.from_array(embedding, "embedding"),
            numpy_helper.from_array(dense, "dense"),
            numpy_helper.from_array(np.array([1], np.int64), "axes"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    onnx.checker.check_model(model)
    data = model.SerializeToString()
    folder.mkdir(parents=True)
    (folder / "model.onnx").write_bytes(data)
    (folder / "labels.json").write_text(json.dumps(LABELS))
    (folder / "tokenizer.py").write_text(TOKENIZER_PY)
    (folder / "tokenizer.json").write_text(json.dumps({"words": WORDS, "sequence_length": SEQUENCE_LENGTH}))
    manifest = {"labels": LABELS, "input": "token_ids", "sha256": hashlib.sha256(data).hexdigest()}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder
