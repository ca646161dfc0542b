#!/usr/bin/env python3
"""Make the bundle `classify.py` runs, from your own model (needs the converters:
`pip install -r requirements-convert.txt`; running the bundle needs only requirements.txt).

    python convert.py keras --saved-model CORE --tokenizer DIR --out model
    python convert.py sklearn --pipeline PIPELINE.joblib --labels great,other --out model

keras    CORE is a SavedModel whose `serving_default` signature takes int32 token ids [None, L] and
         returns `probabilities` [None, labels]: the part of your model after the text preprocessing
         (tf2onnx converts no string ops, like the TF.js and LiteRT converters). DIR is your
         preprocessing: `tokenizer.py` (a `Tokenizer.from_spec(path)` whose `encode(text)` returns L ids,
         `sequence_length`, and a module constant `PAD_ID`) and `tokenizer.json`, its spec (with the
         `labels`, unless --labels gives them); `test_vectors.json` travels too if it is there.
sklearn  PIPELINE is a fitted scikit-learn Pipeline saved with joblib, text in, `predict_proba` out
         (a TfidfVectorizer or CountVectorizer, then a classifier). It converts whole, text processing
         included: the bundle takes the text itself. Load only files you trust: joblib runs code.

It writes `model.onnx`, `labels.json` and a `manifest.json` with the model's size and SHA-256 (the
client checks it) into a new folder that replaces --out only once it is complete.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

OPSET = 17
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.py", "test_vectors.json")
#: skl2onnx writes this locale into the model's StringNormalizer (lowercasing); ONNX Runtime needs it
#: installed. C.UTF-8 is on every glibc Linux; on macOS pass --locale en_US.UTF-8.
LOCALE = "C.UTF-8"


#: scikit-learn's default token pattern, and the same words in RE2, the regex engine of ONNX Runtime's
#: Tokenizer, where `\w` and `\b` are ASCII-only (with them, "Crème brûlée" would lose its accents' words).
SKLEARN_TOKENS, RE2_TOKENS = r"(?u)\b\w\w+\b", r"[\p{L}\p{N}_]{2,}"


class ConversionError(Exception):
    """A conversion that cannot be done; the message says why."""


def write_bundle(out: Path, model: bytes, labels: list[str], **about) -> dict:
    """model.onnx, labels.json and the manifest into `out`; returns the manifest."""
    if len(labels) < 2:
        raise ConversionError("no labels: give --labels, or list them under 'labels' in tokenizer.json")
    (out / "model.onnx").write_bytes(model)
    (out / "labels.json").write_text(json.dumps(labels))
    manifest = {
        "labels": labels,
        "bytes": len(model),
        "sha256": hashlib.sha256(model).hexdigest(),
        "opset": OPSET,
        **about,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return manifest


def convert_keras(saved_model: Path, tokenizer_dir: Path, out: Path, labels: list[str] | None = None) -> dict:
    """tf2onnx's command line on the core SavedModel (its documented entry point), then the tokenizer."""
    saved_model, tokenizer_dir = Path(saved_model), Path(tokenizer_dir)
    spec = json.loads((tokenizer_dir / "tokenizer.json").read_text(encoding="utf-8"))
    command = [sys.executable, "-m", "tf2onnx.convert", "--saved-model", str(saved_model)]
    command += ["--opset", str(OPSET), "--output", str(out / "model.onnx")]
    quiet = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=quiet)
    if done.returncode != 0:
        errors = [line for line in done.stderr.splitlines() if "Error" in line] or ["see tf2onnx's output"]
        raise ConversionError(f"tf2onnx could not convert {saved_model} ({errors[-1].strip()[:300]})")
    for name in TOKENIZER_FILES:
        if (tokenizer_dir / name).exists():
            shutil.copy(tokenizer_dir / name, out / name)
    model = (out / "model.onnx").read_bytes()
    labels = list(labels or spec.get("labels") or [])
    converter = f"tf2onnx {version('tf2onnx')}"
    return write_bundle(out, model, labels, input="token_ids", converter=converter, source=str(saved_model))


def tokenexp(token_pattern: str) -> str:
    """The vectorizer's token pattern for ONNX Runtime (without it skl2onnx splits on spaces only)."""
    return RE2_TOKENS if token_pattern == SKLEARN_TOKENS else token_pattern.removeprefix("(?u)")


def convert_sklearn(pipeline, out: Path, labels: list[str], locale: str = LOCALE, source: str = "") -> dict:
    """skl2onnx on a fitted text pipeline: one string per row in, `label` and `probabilities` out."""
    import skl2onnx
    from skl2onnx.common.data_types import StringTensorType

    text_step, classifier = pipeline.steps[0][1], pipeline.steps[-1][1]
    if getattr(text_step, "sublinear_tf", False):
        # skl2onnx 1.20 writes log(1 + tf) where scikit-learn computes 1 + log(tf): the converted model
        # would answer differently from yours (by up to 0.02 in probability on the workshop's reviews).
        raise ConversionError("skl2onnx converts TfidfVectorizer(sublinear_tf=True) wrongly: refit without")
    if len(classifier.classes_) != len(labels):
        classes = len(classifier.classes_)
        raise ConversionError(f"the pipeline has {classes} classes, --labels names {len(labels)}")
    options = {
        id(classifier): {"zipmap": False},  # probabilities as one float tensor, not a list of dicts
        id(text_step): {"tokenexp": tokenexp(text_step.token_pattern), "locale": locale},
    }
    inputs = [("text", StringTensorType([None, 1]))]
    try:
        model = skl2onnx.to_onnx(pipeline, initial_types=inputs, options=options, target_opset=OPSET)
    except (RuntimeError, ValueError, NotImplementedError, TypeError) as exc:
        reason = str(exc).strip().splitlines()[0]
        raise ConversionError(f"skl2onnx could not convert the pipeline ({reason})") from exc
    converter = f"skl2onnx {version('skl2onnx')}"
    about = {"input": "text", "converter": converter, "locale": locale, "source": source}
    return write_bundle(out, model.SerializeToString(), labels, **about)


def main(argv: list[str] | None = None) -> int:
    top = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = top.add_subparsers(dest="framework", required=True)
    keras = sub.add_parser("keras", help="a core SavedModel (token ids in) and its tokenizer")
    keras.add_argument("--saved-model", type=Path, required=True, help="the core SavedModel")
    keras.add_argument("--tokenizer", type=Path, required=True, help="folder with tokenizer.py and .json")
    sklearn = sub.add_parser("sklearn", help="a fitted text Pipeline saved with joblib")
    sklearn.add_argument("--pipeline", type=Path, required=True, help="the .joblib file")
    sklearn.add_argument("--locale", default=LOCALE, help="for lowercasing in ONNX Runtime (%(default)s)")
    for parser in (keras, sklearn):
        parser.add_argument("--labels", help="comma-separated, in the order of the probabilities")
        parser.add_argument("--out", type=Path, default=Path("model"), help="the bundle folder (%(default)s)")
    args = top.parse_args(argv)
    labels = args.labels.split(",") if args.labels else None
    out = args.out.resolve()
    staging = None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
        if args.framework == "keras":
            manifest = convert_keras(args.saved_model, args.tokenizer, staging, labels)
        else:
            import joblib

            if not labels:
                raise ConversionError("give --labels: the pipeline's classes are numbers, not names")
            pipeline = joblib.load(args.pipeline)
            manifest = convert_sklearn(pipeline, staging, labels, args.locale, str(args.pipeline))
        shutil.rmtree(out, ignore_errors=True)
        staging.rename(out)
    except (ConversionError, OSError, ValueError, KeyError, AttributeError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        print(f"error: {reason} (README.md, 'Your own model')", file=sys.stderr)
        return 2
    finally:
        if staging is not None and staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    size, made = manifest["bytes"] / 1e3, f"{manifest['input']} in, {manifest['converter']}"
    print(f"wrote {out}: model.onnx {size:,.0f} kB ({made}); labels {manifest['labels']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
