#!/usr/bin/env python3
"""Classify food reviews on an edge device with LiteRT. Needs only `ai-edge-litert` and `numpy`.

    python classify.py "Great coffee, will buy again"          one review per argument
    python classify.py --file reviews.txt --json                one review per line, JSON Lines out
    cat reviews.txt | python classify.py --level float32        one review per line from stdin

The model bundle (`model/` beside this file, or --model-dir, or $MODEL_DIR), made on a workstation by
`convert.py`, holds one .tflite file per quantization level, the tokenizer spec (`tokenizer.json`), its
plain-Python implementation (`tokenizer.py`, imported from the bundle rather than copied here: the code
that turns text into ids travels with the vocabulary it was written for), the labels, and a manifest
with each model's SHA-256.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.util
import json
import os
import sys
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter

LEVELS = ("dynamic", "int8", "float16", "float32")
#: Dynamic-range: a quarter of the float32 size, float arithmetic, closest to float32 of the small levels
#: (int8 is as small, computes most of the model in int8 and moves probabilities further: see the README).
DEFAULT_LEVEL = "dynamic"
#: The longest review in the data has 8,055 characters; anything far beyond that is not a review.
MAX_CHARS = 100_000
BATCH = 64
REBUILD = "make the bundle with `python convert.py` (README.md, 'Your own model'), or pass --model-dir"


class ClientError(Exception):
    """A problem the user can fix; printed as one line."""


class ReviewError(ClientError):
    """The model could not compute one review; `index` says which."""

    def __init__(self, message: str, index: int):
        super().__init__(message)
        self.index = index


def default_bundle() -> Path:
    """$MODEL_DIR, else `model/` beside this file (as copied to a device)."""
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


@contextlib.contextmanager
def quiet_stderr():
    """Hide the runtime's one-time "INFO: Created TensorFlow Lite XNNPACK delegate" line (printed from C++).

    Errors still arrive: the interpreter raises them as Python exceptions with their message.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class EdgeClassifier:
    """Text → tokenizer → LiteRT interpreter → probabilities, for one quantization level of a bundle."""

    def __init__(self, bundle: Path, level: str = DEFAULT_LEVEL, num_threads: int | None = None):
        self.bundle, self.level = Path(bundle), level
        self.max_chars = MAX_CHARS
        path = self.bundle / f"{level}.tflite"
        if not path.is_file():
            raise ClientError(f"no LiteRT model at {path}: {REBUILD}")
        manifest = read_json(self.bundle / "manifest.json", "bundle manifest")
        if hashlib.sha256(path.read_bytes()).hexdigest() != manifest.get("sha256", {}).get(level):
            raise ClientError(
                f"{path} does not match the bundle's manifest (SHA-256): it is corrupt; {REBUILD}"
            )
        self.labels = read_json(self.bundle / "labels.json", "label list")
        self.tokenizer_module, self.tokenizer = load_tokenizer(self.bundle)
        try:
            with quiet_stderr():
                self.interpreter = Interpreter(model_path=str(path), num_threads=num_threads)
                self.interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ClientError(f"{path} is not a usable LiteRT model ({first_line(exc)}): {REBUILD}") from exc
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]
        expected = [-1, self.tokenizer.sequence_length]
        if self.input["dtype"] != np.int32 or self.input["shape_signature"].tolist() != expected:
            raise ClientError(f"{path} does not take int32 token ids of shape {expected}: {REBUILD}")

    def encode(self, text: str) -> list[int]:
        """Token ids for one review, or a ClientError saying why it cannot be classified."""
        if len(text) > self.max_chars:
            raise ClientError(
                f"is {len(text):,} characters long; the limit is {self.max_chars:,} (--max-chars)"
            )
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ClientError("is not valid UTF-8 text") from exc
        ids = self.tokenizer.encode(text)
        if ids[0] == self.tokenizer_module.PAD_ID:
            raise ClientError("has no words to classify (it is empty, or only spaces and punctuation)")
        return ids

    def predict_ids(self, ids) -> np.ndarray:
        """Probabilities (float32, one row per review) for a batch of token id rows: one interpreter call."""
        ids = np.asarray(ids, dtype=np.int32)
        if self.input["shape"][0] != len(ids):
            self.interpreter.resize_tensor_input(self.input["index"], ids.shape)
            self.interpreter.allocate_tensors()
            self.input = self.interpreter.get_input_details()[0]
        self.interpreter.set_tensor(self.input["index"], ids)
        try:
            self.interpreter.invoke()
        except RuntimeError as exc:
            reason = "".join(first_line(exc).partition("failed to invoke.")[:2])  # it repeats itself
            raise ClientError(f"could not be computed by the {self.level} model ({reason})") from exc
        return self.dequantize(self.interpreter.get_tensor(self.output["index"]))

    def dequantize(self, raw: np.ndarray) -> np.ndarray:
        """An int8 model answers in int8: real value = scale × (stored − zero point)."""
        if raw.dtype == np.float32:
            return raw.copy()
        scale, zero_point = self.output["quantization"]
        return (scale * (raw.astype(np.float32) - zero_point)).astype(np.float32)

    def predict_batches(self, ids: list[list[int]]) -> np.ndarray:
        """Any number of id rows, BATCH per call. If a batch fails, find and name the review that did."""
        out = [np.empty((0, len(self.labels)), np.float32)]
        for start in range(0, len(ids), BATCH):
            try:
                out.append(self.predict_ids(ids[start : start + BATCH]))
            except ClientError:
                for i in range(start, min(start + BATCH, len(ids))):
                    try:
                        self.predict_ids(ids[i : i + 1])
                    except ClientError as exc:
                        raise ReviewError(str(exc), i) from exc
                raise
        return np.concatenate(out)

    def predict(self, texts: list[str]) -> np.ndarray:
        return self.predict_batches([self.encode(text) for text in texts])

    def result(self, probabilities) -> dict:
        return {
            "label": self.labels[int(np.argmax(probabilities))],
            "probabilities": {
                label: round(float(p), 6) for label, p in zip(self.labels, probabilities, strict=True)
            },
        }


def read_reviews(args) -> list[tuple[str, str]]:
    """(where, text) pairs from the arguments, --file or stdin: one review per line."""
    if args.texts:
        return [(f"argument {i}", text) for i, text in enumerate(args.texts, 1)]
    if args.file:
        try:
            data, source = Path(args.file).read_bytes(), args.file
        except OSError as exc:
            raise ClientError(f"cannot read {args.file}: {exc.strerror}") from exc
    elif sys.stdin is None or sys.stdin.isatty():
        raise ClientError("nothing to classify: give reviews as arguments, --file FILE, or lines on stdin")
    else:
        data, source = sys.stdin.buffer.read(), "stdin"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ClientError(
            f"line {line} of {source} is not valid UTF-8 (byte 0x{data[exc.start]:02x}): save it as UTF-8"
        ) from exc
    lines = text.split("\n")  # not splitlines(): \v, \f and U+2028 inside a review do not end it
    if lines[-1] == "":
        lines.pop()  # the newline that ends the last line
    if not lines:
        raise ClientError(f"{source} is empty: give one review per line")
    return [(f"line {n} of {source}", line.removesuffix("\r")) for n, line in enumerate(lines, 1)]


def classify(classifier: EdgeClassifier, reviews: list[tuple[str, str]]) -> list[dict]:
    """Check every review first (so a bad line 900 fails before any output), then predict in batches."""
    ids = []
    for where, text in reviews:
        try:
            ids.append(classifier.encode(text))
        except ClientError as exc:
            raise ClientError(f"{where} {exc}") from exc
    try:
        return [classifier.result(p) for p in classifier.predict_batches(ids)]
    except ReviewError as exc:
        raise ClientError(f"{reviews[exc.index][0]} {exc}") from exc


def show(results: list[dict], reviews: list[tuple[str, str]], as_json: bool) -> None:
    for result, (_, text) in zip(results, reviews, strict=True):
        if as_json:
            print(json.dumps(result, ensure_ascii=False))
        else:
            preview = " ".join(text.split())
            preview = preview if len(preview) <= 60 else preview[:59] + "…"
            print(f"{result['label']:<6} {max(result['probabilities'].values()):.3f}  {preview}")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    top.add_argument("texts", nargs="*", metavar="REVIEW", help="reviews (default: one per line of stdin)")
    top.add_argument("--file", help="a UTF-8 text file, one review per line")
    top.add_argument("--json", action="store_true", help="one JSON object per review (JSON Lines)")
    top.add_argument("--level", choices=LEVELS, default=DEFAULT_LEVEL, help="quantization (%(default)s)")
    top.add_argument(
        "--model-dir",
        type=Path,
        help="the model bundle (default: $MODEL_DIR, else model/ beside this file)",
    )
    top.add_argument("--max-chars", type=int, default=MAX_CHARS, help="longest review (%(default)s)")
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.texts and args.file:
            raise ClientError("give reviews as arguments or with --file, not both")
        classifier = EdgeClassifier(args.model_dir or default_bundle(), args.level)
        classifier.max_chars = args.max_chars
        reviews = read_reviews(args)
        show(classify(classifier, reviews), reviews, args.json)
    except ClientError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `… | head`: the reader left early; not an error (recipe from Python's docs)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the flush at exit cannot fail
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
