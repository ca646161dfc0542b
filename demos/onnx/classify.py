#!/usr/bin/env python3
"""Classify food reviews with ONNX Runtime. Needs only `onnxruntime` and `numpy`.

    python classify.py "Great coffee, will buy again"          one review per argument
    python classify.py --json < reviews.txt                     one review per line, JSON Lines out

The model bundle (`model/` beside this file, or --model-dir, or $MODEL_DIR), made by `convert.py`, holds
`model.onnx`, its labels and a manifest with the model's SHA-256. A model converted from Keras takes token
ids, so its bundle also carries the tokenizer (`tokenizer.py` with its `tokenizer.json`, imported from the
bundle); a scikit-learn pipeline converts whole, text processing included, and takes the text itself.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort

#: The longest review in the workshop's data has 8,055 characters; far beyond that is not a review.
MAX_CHARS = 100_000
BATCH = 256
REBUILD = "make the bundle with `python convert.py` (README.md, 'Your own model'), or pass --model-dir"


class ClientError(Exception):
    """A problem the user can fix; printed as one line."""


def default_bundle() -> Path:
    """$MODEL_DIR, else `model/` beside this file."""
    return Path(os.environ.get("MODEL_DIR") or Path(__file__).resolve().with_name("model"))


def read_json(path: Path, what: str):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ClientError(f"the {what} ({path}) is unreadable ({first_line(exc)}): {REBUILD}") from exc


def load_tokenizer(bundle: Path):
    """The bundle's own tokenizer.py (a module), fed its own tokenizer.json."""
    try:
        spec = importlib.util.spec_from_file_location("bundle_tokenizer", bundle / "tokenizer.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module, module.Tokenizer.from_spec(bundle / "tokenizer.json")
    except (OSError, ValueError, KeyError, SyntaxError, AttributeError) as exc:
        raise ClientError(f"the tokenizer in {bundle} is unusable ({first_line(exc)}): {REBUILD}") from exc


class OnnxClassifier:
    """Text → (the bundle's tokenizer, for a token-id model) → ONNX Runtime → probabilities."""

    def __init__(self, bundle: Path):
        self.bundle = Path(bundle)
        path = self.bundle / "model.onnx"
        if not path.is_file():
            raise ClientError(f"no ONNX model at {path}: {REBUILD}")
        manifest = read_json(self.bundle / "manifest.json", "bundle manifest")
        if hashlib.sha256(path.read_bytes()).hexdigest() != manifest.get("sha256"):
            raise ClientError(f"{path} does not match the bundle's manifest (SHA-256): corrupt; {REBUILD}")
        self.labels = read_json(self.bundle / "labels.json", "label list")
        try:
            self.session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
            raise ClientError(f"{path} does not load in ONNX Runtime ({first_line(exc)}): {REBUILD}") from exc
        self.input = self.session.get_inputs()[0]
        outputs = {o.name: o for o in self.session.get_outputs()}
        if "probabilities" not in outputs:
            raise ClientError(f"{path} has no output named 'probabilities' (it has {', '.join(outputs)})")
        self.takes_text = self.input.type == "tensor(string)"
        self.tokenizer = None
        if not self.takes_text:
            self.tokenizer_module, self.tokenizer = load_tokenizer(self.bundle)
            expected = self.tokenizer.sequence_length
            if self.input.type != "tensor(int32)" or self.input.shape[1:] != [expected]:
                raise ClientError(
                    f"{path} takes {self.input.type} {self.input.shape}, not text or int32 token ids of "
                    f"length {expected}: {REBUILD}"
                )

    def encode(self, text: str):
        """The model's input row for one review, or a ClientError saying why it cannot be classified."""
        if len(text) > MAX_CHARS:
            raise ClientError(f"is {len(text):,} characters long; the limit is {MAX_CHARS:,}")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ClientError("is not valid UTF-8 text") from exc
        if not text.strip():
            raise ClientError("is empty: there is nothing to classify")
        if self.takes_text:
            return [text]
        ids = self.tokenizer.encode(text)
        if ids[0] == self.tokenizer_module.PAD_ID:
            raise ClientError("has no words to classify (only spaces and punctuation)")
        return ids

    def predict_rows(self, rows: list) -> np.ndarray:
        """Probabilities, one row per input row, BATCH rows per call of the session."""
        dtype = object if self.takes_text else np.int32
        out = [np.empty((0, len(self.labels)), np.float32)]
        for start in range(0, len(rows), BATCH):
            feed = {self.input.name: np.array(rows[start : start + BATCH], dtype=dtype)}
            out.append(self.session.run(["probabilities"], feed)[0])
        return np.concatenate(out)

    def predict(self, texts: list[str]) -> np.ndarray:
        return self.predict_rows([self.encode(text) for text in texts])

    def result(self, probabilities) -> dict:
        return {
            "label": self.labels[int(np.argmax(probabilities))],
            "probabilities": {
                label: round(float(p), 6) for label, p in zip(self.labels, probabilities, strict=True)
            },
        }


def read_reviews(texts: list[str]) -> list[tuple[str, str]]:
    """(where, text) pairs: the arguments, else one review per line of stdin."""
    if texts:
        return [(f"argument {i}", text) for i, text in enumerate(texts, 1)]
    if sys.stdin is None or sys.stdin.isatty():
        raise ClientError("nothing to classify: give reviews as arguments, or one per line on stdin")
    data = sys.stdin.buffer.read()
    try:
        lines = data.decode("utf-8-sig").split("\n")  # not splitlines(): \v, \f inside a review stay
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ClientError(f"line {line} of stdin is not valid UTF-8: save it as UTF-8") from exc
    if lines[-1] == "":
        lines.pop()
    if not lines:
        raise ClientError("stdin is empty: give one review per line")
    return [(f"line {n} of stdin", line.removesuffix("\r")) for n, line in enumerate(lines, 1)]


def classify(classifier: OnnxClassifier, reviews: list[tuple[str, str]]) -> list[dict]:
    """Check every review first (a bad line 900 fails before any output), then predict in batches."""
    rows = []
    for where, text in reviews:
        try:
            rows.append(classifier.encode(text))
        except ClientError as exc:
            raise ClientError(f"{where} {exc}") from exc
    return [classifier.result(p) for p in classifier.predict_rows(rows)]


def main(argv: list[str] | None = None) -> int:
    top = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    top.add_argument("texts", nargs="*", metavar="REVIEW", help="reviews (default: one per line of stdin)")
    top.add_argument("--json", action="store_true", help="one JSON object per review (JSON Lines)")
    top.add_argument("--model-dir", type=Path, help="the bundle (default: $MODEL_DIR, else model/ here)")
    args = top.parse_args(argv)
    try:
        classifier = OnnxClassifier(args.model_dir or default_bundle())
        reviews = read_reviews(args.texts)
        for result, (_, text) in zip(classify(classifier, reviews), reviews, strict=True):
            if args.json:
                print(json.dumps(result, ensure_ascii=False))
            else:
                preview = " ".join(text.split())
                preview = preview if len(preview) <= 60 else preview[:59] + "…"
                print(f"{result['label']:<8} {max(result['probabilities'].values()):.3f}  {preview}")
    except ClientError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `… | head`: the reader left early; not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a user never sees a traceback; the message still says what happened
        print(f"error: unexpected {type(exc).__name__}: {first_line(exc)}", file=sys.stderr)
        return 1
    return 0


def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


if __name__ == "__main__":
    sys.exit(main())
