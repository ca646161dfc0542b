"""An MLServer runtime for a review classifier in an ONNX bundle (the folder demos/onnx's convert.py
makes): text in, `probabilities` and `label` out, over the Open Inference Protocol (V2), REST and gRPC.

MLServer ships runtimes for scikit-learn, XGBoost, MLflow and others, none for TensorFlow: a runtime of
your own is a subclass of `mlserver.MLModel` with `load()` and `predict()`. This one runs the model with
ONNX Runtime, so the server's environment needs no TensorFlow.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from pathlib import Path

import numpy as np
import onnxruntime as ort
from mlserver import MLModel
from mlserver.codecs import NumpyCodec, StringCodec
from mlserver.errors import InferenceError
from mlserver.types import InferenceRequest, InferenceResponse
from prometheus_client import Histogram

#: The longest review in the workshop's data has 8,055 characters; far beyond that is not a review.
MAX_CHARS = 100_000
#: Reviews per call of predict(): with adaptive batching, how many requests MLServer merged. On the
#: metrics endpoint (`review_batch_size_bucket{le="8.0"}`, `_count`, `_sum`). MLServer imports this
#: module again for every model it loads; `importlib.reload` keeps its globals, so one histogram serves all.
BATCH_SIZES = globals().get("BATCH_SIZES") or Histogram(
    "review_batch_size",
    "reviews per call of the runtime's predict()",
    labelnames=["model_name", "model_version"],
    buckets=(1, 2, 4, 8, 16, 32, 64),
)


def review_texts(payload: InferenceRequest) -> list[str]:
    """The request's one BYTES input as texts, or an InferenceError (a 400) that says what is wrong."""
    if len(payload.inputs) != 1 or payload.inputs[0].datatype != "BYTES":
        raise InferenceError("send one input of datatype BYTES: the reviews' texts, shape [n]")
    try:
        texts = StringCodec.decode_input(payload.inputs[0])
    except (UnicodeDecodeError, ValueError, TypeError) as exc:
        raise InferenceError(f"the input is not UTF-8 text ({exc})") from exc
    if not texts:
        raise InferenceError("the input holds no reviews: send at least one")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise InferenceError(f"review {i} is {text!r}, not text: send the review's text")
        if not text.strip():
            raise InferenceError(f"review {i} is empty: send the review's text")
        if len(text) > MAX_CHARS:
            raise InferenceError(f"review {i} has {len(text):,} characters; the limit is {MAX_CHARS:,}")
    return texts


class ReviewClassifier(MLModel):
    async def load(self) -> bool:
        """The bundle at $MODEL_DIR, else in model/ where `mlserver start` runs: checked, then loaded once."""
        bundle = Path(os.environ.get("MODEL_DIR") or Path.cwd() / "model")
        model = bundle / "model.onnx"
        manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
        if hashlib.sha256(model.read_bytes()).hexdigest() != manifest["sha256"]:
            raise ValueError(f"{model} does not match its manifest (SHA-256): make the bundle again")
        self.labels = json.loads((bundle / "labels.json").read_text(encoding="utf-8"))
        self.session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
        model_input = self.session.get_inputs()[0]
        self.input_name, self.takes_text = model_input.name, model_input.type == "tensor(string)"
        if not self.takes_text:  # a Keras core: the bundle's own tokenizer turns text into ids
            spec = importlib.util.spec_from_file_location("bundle_tokenizer", bundle / "tokenizer.py")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            self.pad_id, self.tokenizer = module.PAD_ID, module.Tokenizer.from_spec(bundle / "tokenizer.json")
        self.batch_sizes = BATCH_SIZES.labels(self.name, self.version or "")
        return True

    def rows(self, texts: list[str]) -> np.ndarray:
        if self.takes_text:
            return np.array(texts, dtype=object).reshape(-1, 1)
        ids = [self.tokenizer.encode(text) for text in texts]
        if empty := [i for i, row in enumerate(ids) if row[0] == self.pad_id]:
            raise InferenceError(f"review {empty[0]} has no words to classify (only spaces and punctuation)")
        return np.array(ids, dtype=np.int32)

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        texts = review_texts(payload)
        self.batch_sizes.observe(len(texts))
        probabilities = self.session.run(["probabilities"], {self.input_name: self.rows(texts)})[0]
        labels = [self.labels[i] for i in probabilities.argmax(axis=1)]
        return InferenceResponse(
            model_name=self.name,
            model_version=self.version,
            outputs=[
                NumpyCodec.encode_output("probabilities", probabilities.astype(np.float32)),
                StringCodec.encode_output("label", labels),
            ],
        )
