"""Chapter 04's exercise: ship float16 weights, and check that they are half the bytes and still Keras.

The learner runs the converter with its float16 flag into a folder; the check reads that folder as TF.js
would (model.json's weights manifest, the binary shard) and runs the core model's arithmetic in NumPy on
the decoded weights, against the probabilities Keras computed for the shared test vectors. That is
faster than a browser and honest about what it proves: the stored weights, not TF.js's kernels (the
page's own parity check in the notebook covers those).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from nowwhat.artifacts import folder_bytes
from nowwhat.exercises import Verdict, not_yet, right
from nowwhat.paths import tokenizer_dir
from nowwhat.tfjs.convert import inspect, read_weights

#: float16 keeps ~3 significant digits; the browser tests allow the same for float16 weights.
FLOAT16_TOLERANCE = 1e-3


def check_float16_model(folder: Path, float32: Path, vectors: list[dict] | None = None) -> Verdict:
    """Is `folder` a graph model with every float weight stored as float16, about half the bytes of the
    float32 conversion in `float32`, giving Keras' probabilities on the test vectors within 1e-3?"""
    folder, float32 = Path(folder), Path(float32)
    if not (folder / "model.json").exists():
        return not_yet(f"{folder.name}/ has no model.json yet: run your converter command into that folder.")
    model = inspect(folder)
    if model["format"] != "graph-model":
        return not_yet(
            f"it is a {model['format']}: convert the SavedModel with --output_format=tfjs_graph_model."
        )
    floats = [w for w in model["weights"] if w["dtype"] == "float32"]
    stored = sorted({w["stored_as"] for w in floats})
    if stored != ["float16"]:
        if "float32" in stored:
            left = sum(w["stored_as"] == "float32" for w in floats)
            return not_yet(
                f"{left} of its {len(floats)} float weights are still stored as float32: add the converter's "
                "float16 flag (`tensorflowjs_converter --help` lists it) and run the command again."
            )
        return not_yet(
            f"its weights are stored as {', '.join(stored)}, an integer quantization: the task is float16 "
            "(the converter's --quantize_float16 flag)."
        )
    if not (float32 / "model.json").exists():
        return not_yet(f"{float32.name}/ has no model.json: run the float32 conversion first (to compare).")
    ratio = folder_bytes(folder) / folder_bytes(float32)
    if not 0.4 < ratio < 0.6:
        return not_yet(f"it is {ratio:.0%} of the float32 model's bytes, not about half: convert it again.")
    vectors = vectors or json.loads((tokenizer_dir() / "test_vectors.json").read_text())
    scored = [v for v in vectors if v["ids"]]
    got = probabilities(folder, [v["ids"] for v in scored])
    keras = np.array([v["probabilities"] for v in scored])
    worst = float(np.abs(got - keras).max())
    if worst > FLOAT16_TOLERANCE or (got.argmax(1) != keras.argmax(1)).any():
        return not_yet(
            f"it differs from Keras by up to {worst:.1e} on the test vectors (float16 should stay within "
            f"{FLOAT16_TOLERANCE:g}): convert the core SavedModel, not another one."
        )
    return right(
        f"every float weight is stored as float16, the model is {ratio:.0%} of float32's bytes, and it gives "
        f"Keras' probabilities on all {len(scored)} test vectors within {FLOAT16_TOLERANCE:g}."
    )


def probabilities(folder: Path, rows: list[list[int]]) -> np.ndarray:
    """The core model (nowwhat.model.build_core) on decoded weights, one row of token ids per text: the
    mean of the embeddings of the non-padding ids (divided by max(count, 1)), a dense layer, softmax.
    Float16 weights are widened to float32 first, as TF.js does when it loads them."""
    ids = np.zeros((len(rows), max(map(len, rows))), np.int64)  # padding (id 0) is left out of the mean
    for i, row in enumerate(rows):
        ids[i, : len(row)] = row
    weights = [a.astype(np.float32) for a in read_weights(folder).values() if a.dtype.kind == "f"]
    embedding, kernel = sorted((a for a in weights if a.ndim == 2), key=lambda a: -a.size)
    bias = next(a for a in weights if a.shape == (kernel.shape[1],))
    real = (ids != 0)[..., None].astype(np.float32)
    mean = (embedding[ids] * real).sum(1) / np.maximum(real.sum(1), 1.0)
    logits = mean @ kernel + bias
    exp = np.exp(logits - logits.max(1, keepdims=True))
    return exp / exp.sum(1, keepdims=True)
