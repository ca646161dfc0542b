"""The model side of the API: find the exported SavedModel, check its contract, load it once, predict.

Kept apart from the web code (review_api.py) so that either can change without the other. Any model that
keeps this contract is served by configuration alone (README.md, "Your own model"):

    <MODEL_DIR>/manifest.json                      {"model_name": ..., "labels": [...]} (+ test metrics)
    <MODEL_DIR>/serving/<name>/<version>/          SavedModel (the highest version is served)

The SavedModel's `serving_default` signature takes raw text (`text`: string [None]) and returns
`probabilities` (float32 [None, number of labels], in the manifest's label order). The layout is
TensorFlow Serving's, so the same folder serves both. `python review_model.py` checks a model folder
without starting a server; the run command does the same before its workers start.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

SIGNATURE = "serving_default"
HINT = "see README.md, 'Your own model'"
#: A character the model reads as (part of) a word: not whitespace, not ASCII punctuation (which this
#: model's standardisation deletes). A text without one has no words: the model would answer it with its
#: prior, which says nothing about the text. If your model reads text differently, change this. The
#: characters only one of Python's `\s` and JSON Schema's (ECMAScript) counts as whitespace (\x1c-\x1f,
#: \x85; \ufeff) are named, so that openapi.json's copy of this pattern means the same in both.
WORD = re.compile(r"[^\s\x1c-\x1f\x85\ufeff!-/:-@\[-`{-~]")


class ModelNotFound(RuntimeError):
    """The model folder is missing, incomplete, or holds a model that breaks the contract above."""


def default_model_dir() -> Path:
    """$MODEL_DIR, else the folder `model/` beside this file."""
    return Path(os.environ.get("MODEL_DIR") or Path(__file__).resolve().with_name("model"))


def has_words(text: str) -> bool:
    """Whether the model can read anything in `text` (see WORD)."""
    return bool(WORD.search(text))


@dataclass(frozen=True)
class ModelInfo:
    name: str
    version: int
    path: Path
    labels: tuple[str, ...]
    test_metrics: dict
    #: Rows true label, columns predicted label, on the test split (empty if the manifest has none).
    test_confusion_matrix: list = ()


def locate(model_dir: Path) -> ModelInfo:
    """Read the manifest and pick the highest numbered version folder, as TF Serving does."""
    model_dir = Path(model_dir)
    hint = f"point MODEL_DIR at a model folder ({HINT})"
    try:
        manifest = json.loads((model_dir / "manifest.json").read_text())
        name, labels = manifest["model_name"], tuple(manifest["labels"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelNotFound(f"no usable model manifest in {model_dir} ({exc}): {hint}") from None
    if len(labels) < 2 or len(set(labels)) != len(labels) or not all(isinstance(x, str) for x in labels):
        raise ModelNotFound(f"the manifest in {model_dir} needs two or more distinct labels: {HINT}")
    base = model_dir / "serving" / str(name)
    versions = [
        int(p.name) for p in base.glob("[0-9]*") if p.name.isdigit() and (p / "saved_model.pb").exists()
    ]
    if not versions:
        raise ModelNotFound(f"no SavedModel version folder under {base}: {hint}")
    test = manifest.get("metrics", {}).get("test", {})
    metrics = {key: test[key] for key in ("accuracy", "macro_f1", "n") if key in test}
    matrix = test.get("confusion_matrix") or ()
    return ModelInfo(str(name), max(versions), base / str(max(versions)), labels, metrics, matrix)


def check_contract(function, labels: tuple[str, ...]) -> None:
    """Refuse a signature that does not take `text` (string [None]) and give `probabilities` (float
    [None, labels]): one clear error at start-up rather than a failure on every request."""
    inputs = function.structured_input_signature[1]
    outputs = function.structured_outputs
    text, probabilities = inputs.get("text"), outputs.get("probabilities")
    problems = []
    if text is None or text.dtype.name != "string" or text.shape.rank != 1:
        problems.append(f"an input `text` of type string [None] (it has: {_specs(inputs)})")
    if probabilities is None or not probabilities.dtype.is_floating or probabilities.shape.rank != 2:
        problems.append(f"an output `probabilities` of type float [None, labels] (it has: {_specs(outputs)})")
    elif probabilities.shape[-1] != len(labels):
        problems.append(
            f"{probabilities.shape[-1]} probabilities per text for the manifest's {len(labels)} labels"
        )
    if problems:
        raise ModelNotFound(f"the signature {SIGNATURE!r} needs {'; and '.join(problems)}: {HINT}")


def _specs(specs: dict) -> str:
    described = (f"{key}: {spec.dtype.name} {spec.shape.as_list()}" for key, spec in sorted(specs.items()))
    return ", ".join(described)


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
        if SIGNATURE not in self._loaded.signatures:
            raise ModelNotFound(f"the SavedModel in {self.info.path} has no {SIGNATURE!r} signature: {HINT}")
        self.serving_function = self._loaded.signatures[SIGNATURE]
        check_contract(self.serving_function, self.info.labels)
        self.predict(["warm-up: the first call builds the graph"])

    def predict(self, texts: list[str]) -> list[dict]:
        """Label and probability per label for each text (texts are already validated)."""
        outputs = self.serving_function(text=self._tf.constant(texts, dtype=self._tf.string))
        labels = self.info.labels
        return [
            {"label": labels[row.index(max(row))], "probabilities": dict(zip(labels, row, strict=True))}
            for row in outputs["probabilities"].numpy().tolist()
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


def main(argv: list[str] | None = None) -> int:
    """`python review_model.py [--model-dir DIR]`: load and check a model folder, as the server would."""
    parser = argparse.ArgumentParser(description="Check that a model folder can be served by this API.")
    parser.add_argument("--model-dir", type=Path, help="the model folder (default: $MODEL_DIR, else ./model)")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        model = ReviewModel(args.model_dir, threads=1)
    except ModelNotFound as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    info = model.info
    print(f"ok: model {info.name!r} version {info.version}, labels {list(info.labels)}, from {info.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
