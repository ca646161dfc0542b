"""How close each LiteRT level comes to Keras, measured through the demo's own edge client.

The figures describe what a learner ships: the text goes through `demos/tflite/classify.py` (the bundle's
tokenizer, the interpreter, int8 dequantization), not through a second implementation written for tests.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from functools import cache
from pathlib import Path

from nowwhat.errors import NowWhatError
from nowwhat.paths import REPO_ROOT

CLIENT = REPO_ROOT / "demos" / "tflite" / "classify.py"


@cache
def client():
    """The edge client module (demos/tflite/classify.py), imported from its file."""
    if not CLIENT.exists():
        raise NowWhatError(f"the edge client {CLIENT} is missing: run from a checkout of the repository")
    spec = importlib.util.spec_from_file_location("tflite_edge_client", CLIENT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def run_client(*args, stdin: bytes | str = b"", python: str = sys.executable, client_file: Path = CLIENT):
    """Run the edge client's command line as a user would: a fresh process, bytes in and out."""
    return subprocess.run(
        [python, str(client_file), *map(str, args)],
        input=stdin.encode() if isinstance(stdin, str) else stdin,
        capture_output=True,
        timeout=120,
    )


def classifier(level: str, bundle: Path | None = None, num_threads: int | None = None):
    """An EdgeClassifier for one level of the bundle (converted first if missing)."""
    from nowwhat.tflite.convert import bundle_dir, ensure_converted

    if bundle is None:
        ensure_converted()
    return client().EdgeClassifier(bundle or bundle_dir(), level, num_threads=num_threads)


def reference_reviews(n: int | None = None):
    """(texts, true label ids, Keras probabilities) for the first n test reviews (all 1,000 by default)."""
    from nowwhat.data import load_splits
    from nowwhat.training import load_trained, predict

    splits = load_splits()
    texts, labels = splits.texts("test")[:n], splits.label_ids("test")[:n]
    return texts, labels, predict(load_trained()[0], texts)


def evaluate(reference=None, levels=None) -> list[dict]:
    """Per level: bytes, share of float32, test accuracy, agreement with Keras, tolerance."""
    from nowwhat.metrics import agreement, classification_metrics
    from nowwhat.tflite.convert import LEVELS, TOLERANCES, ensure_converted

    manifest = ensure_converted()
    texts, labels, keras = reference or reference_reviews()
    rows = []
    for level in levels or LEVELS:
        probabilities = classifier(level).predict(texts)
        rows.append(
            {
                "level": level,
                "bytes": manifest["bytes"][level],
                "share_of_float32": round(manifest["bytes"][level] / manifest["bytes"]["float32"], 4),
                "test_accuracy": classification_metrics(labels, probabilities)["accuracy"],
                "keras_test_accuracy": classification_metrics(labels, keras)["accuracy"],
                "same_label": agreement(keras, probabilities)["same_label"],
                "max_abs_diff": agreement(keras, probabilities)["max_abs_diff"],
                "tolerance": TOLERANCES[level],
                "reviews": len(texts),
            }
        )
    return rows


def short_reviews(
    words=(1, 2, 3, 5, 10, 20), n: int = 200, levels=None, bundle: Path | None = None
) -> list[dict]:
    """Where quantization hurts: the first k words of n test reviews, per level (of `bundle`, by default
    the chapter's), against Keras.

    Counts reviews a level cannot compute at all (a fully quantized int8 model on one word) and, for the
    rest, the largest probability gap and the share of identical labels."""
    import numpy as np

    from nowwhat.data import load_splits
    from nowwhat.tflite.convert import LEVELS
    from nowwhat.training import load_trained, predict

    keras_model = load_trained()[0]
    clients = {level: classifier(level, bundle) for level in levels or LEVELS}
    texts = load_splits().texts("test")[:n]
    rows = []
    for k in words:
        cut = [" ".join(text.split()[:k]) for text in texts]
        cut = [text for text in cut if any(next(iter(clients.values())).tokenizer.encode(text))]
        keras = predict(keras_model, cut)
        for level, edge in clients.items():
            results = [_try(edge, text) for text in cut]
            ok = [i for i, p in enumerate(results) if p is not None]
            got = np.array([results[i] for i in ok]).reshape(-1, keras.shape[1])
            rows.append(
                {
                    "words": k,
                    "level": level,
                    "reviews": len(cut),
                    "failed": len(cut) - len(ok),
                    "max_abs_diff": float(np.abs(got - keras[ok]).max()) if ok else float("nan"),
                    "same_label": float((got.argmax(1) == keras[ok].argmax(1)).mean())
                    if ok
                    else float("nan"),
                }
            )
    return rows


def _try(edge, text: str):
    try:
        return edge.predict([text])[0]
    except client().ClientError:
        return None
