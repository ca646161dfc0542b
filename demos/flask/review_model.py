"""The model side of the API: find the exported SavedModel, load it once, answer predictions.

Kept apart from the web code (review_api.py) so that either can change without the other: swap in your
own model by exporting a SavedModel whose `serving_default` signature takes raw text (`text`, string
[None]) and returns `probabilities` (float32 [None, labels]) and `label`, plus a manifest.json naming the
labels — the layout below is TensorFlow Serving's, so the same folder serves both chapters.

    <MODEL_DIR>/manifest.json                      labels, model name, test metrics
    <MODEL_DIR>/serving/<name>/<version>/          SavedModel (the highest version is served)
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

#: How to build the artifact this demo serves, from the repository root (one line: train, then export).
BUILD_COMMAND = "python -m nowwhat train && python -m nowwhat export"
SIGNATURE = "serving_default"


class ModelNotFound(RuntimeError):
    """The model folder is missing or incomplete; the message says how to build it."""


def default_model_dir() -> Path:
    """$MODEL_DIR, else the workshop's export folder ($NOWWHAT_BUILD/export or <repo>/build/export)."""
    if env := os.environ.get("MODEL_DIR"):
        return Path(env)
    build = os.environ.get("NOWWHAT_BUILD") or Path(__file__).resolve().parents[2] / "build"
    return Path(build) / "export"


@dataclass(frozen=True)
class ModelInfo:
    name: str
    version: int
    path: Path
    labels: tuple[str, ...]
    test_metrics: dict


def locate(model_dir: Path) -> ModelInfo:
    """Read the manifest and pick the highest numbered version folder, as TF Serving does."""
    model_dir = Path(model_dir)
    hint = f"build it with `{BUILD_COMMAND}` from the repository root, or point MODEL_DIR at an export folder"
    try:
        manifest = json.loads((model_dir / "manifest.json").read_text())
        name, labels = manifest["model_name"], tuple(manifest["labels"])
    except (OSError, ValueError, KeyError) as exc:
        raise ModelNotFound(f"no usable model manifest in {model_dir} ({exc}): {hint}") from None
    base = model_dir / "serving" / name
    versions = [
        int(p.name) for p in base.glob("[0-9]*") if p.name.isdigit() and (p / "saved_model.pb").exists()
    ]
    if not versions:
        raise ModelNotFound(f"no SavedModel version folder under {base}: {hint}")
    test = manifest.get("metrics", {}).get("test", {})
    metrics = {key: test[key] for key in ("accuracy", "macro_f1", "n") if key in test}
    return ModelInfo(name, max(versions), base / str(max(versions)), labels, metrics)


class ReviewModel:
    """One loaded SavedModel signature. Load it once per process (per gunicorn worker), never per request."""

    def __init__(self, model_dir: Path | None = None, threads: int | None = None):
        self.info = locate(model_dir or default_model_dir())
        import tensorflow as tf

        threads = threads if threads is not None else int(os.environ.get("TF_THREADS", "1"))
        if threads:
            # One thread per worker: the workers already use every core; more threads only fight.
            # TensorFlow fixes its thread pools when it first runs anything; in a process that already
            # has (a test session, a notebook), keep what it chose rather than fail.
            with contextlib.suppress(RuntimeError):
                tf.config.threading.set_intra_op_parallelism_threads(threads)
                tf.config.threading.set_inter_op_parallelism_threads(threads)
        self._tf = tf
        self._loaded = tf.saved_model.load(str(self.info.path))  # keep a reference: it owns the variables
        self.serving_function = self._loaded.signatures[SIGNATURE]
        self.predict(["warm-up: the first call builds the graph"])

    def predict(self, texts: list[str]) -> list[dict]:
        """Label and probability per label for each text (texts are already validated)."""
        outputs = self.serving_function(text=self._tf.constant(texts, dtype=self._tf.string))
        labels = [label.decode() for label in outputs["label"].numpy()]
        probabilities = outputs["probabilities"].numpy().tolist()
        return [
            {"label": label, "probabilities": dict(zip(self.info.labels, row, strict=True))}
            for label, row in zip(labels, probabilities, strict=True)
        ]

    def describe_signature(self) -> dict:
        """Inputs and outputs of the served signature, as `saved_model_cli show` prints them."""

        def fmt(spec):
            return f"{spec.dtype.name} {spec.shape.as_list()}"

        inputs = self.serving_function.structured_input_signature[1]
        return {
            "inputs": {key: fmt(spec) for key, spec in sorted(inputs.items())},
            "outputs": {
                key: fmt(spec) for key, spec in sorted(self.serving_function.structured_outputs.items())
            },
        }
