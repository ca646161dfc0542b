#!/usr/bin/env python3
"""Make the bundle `classify.py` runs, from your own model, on a workstation (needs TensorFlow:
`pip install -r requirements-convert.txt`; the device needs only requirements.txt).

    python convert.py --saved-model CORE --tokenizer DIR --calibration TEXTS --out model

CORE   a SavedModel whose `serving_default` signature takes int32 token ids [None, L] and returns
       probabilities [None, labels]: the part of your model after the text preprocessing (LiteRT has no
       string ops).
DIR    your preprocessing for the device: `tokenizer.py` (a `Tokenizer.from_spec(path)` whose
       `encode(text)` returns L ids, `sequence_length`, and a module constant `PAD_ID`) and
       `tokenizer.json`, its spec (with `sequence_length` and the `labels`, unless --labels gives them);
       `test_vectors.json` travels too if it is there.
TEXTS  training texts, one per line: int8 calibrates on them (without --calibration, int8 is left out).

It writes one `.tflite` file per quantization level, the tokenizer files, `labels.json`, and a
`manifest.json` with each model's size and SHA-256 (the client checks it), into a new folder that
replaces --out only once it is complete.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # classify.py, beside this file

from classify import ClientError, first_line, load_tokenizer, quiet_stderr

LEVELS = ("float32", "float16", "dynamic", "int8")
#: What int8 keeps in float32 by default: the ops of a mean over the tokens (sum of embeddings, token
#: count, max(count, 1), division). Fully quantized, a token count of 1 … 600 is stored in steps of about
#: 2.35, so a one-word text's count rounds to 0 and the int8 division fails. A model that pools another
#: way may need other ops here (--keep-in-float), or none.
INT8_FLOAT_OPS = ("SUM", "MAXIMUM", "DIV")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.py", "test_vectors.json")


class ConversionError(Exception):
    """A conversion that cannot be done; the message says why."""


def converter(level: str, saved_model: Path, calibration=None):
    """A `tf.lite.TFLiteConverter` for the core SavedModel, set up for one quantization level (int8: the
    full-integer settings, which `keep_in_float` then converts with the mean left in float32)."""
    import tensorflow as tf

    if level not in LEVELS:
        raise ConversionError(f"unknown quantization level {level!r}: choose one of {', '.join(LEVELS)}")
    conv = tf.lite.TFLiteConverter.from_saved_model(str(saved_model))
    if level == "float32":
        return conv
    conv.optimizations = [tf.lite.Optimize.DEFAULT]  # alone, this is dynamic-range quantization
    if level == "float16":
        conv.target_spec.supported_types = [tf.float16]
    elif level == "int8":
        if calibration is None:
            raise ConversionError("full-integer quantization needs calibration texts (--calibration)")
        conv.representative_dataset = lambda: ([row[None]] for row in calibration)
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]  # fail rather than fall back
        conv.inference_output_type = tf.int8
    return conv


def keep_in_float(conv, float_ops=INT8_FLOAT_OPS) -> bytes:
    """The int8 converter's model with `float_ops` left in float32 (selective quantization, through
    `tf.lite.experimental.QuantizationDebugger`, TensorFlow's documented way to denylist operators)."""
    import tensorflow as tf

    options = tf.lite.experimental.QuantizationDebugOptions(
        denylisted_ops=list(float_ops),
        fully_quantize=True,  # int8 output: this path ignores the converter's inference_output_type
    )
    debugger = tf.lite.experimental.QuantizationDebugger(
        converter=conv, debug_dataset=conv.representative_dataset, debug_options=options
    )
    return debugger.get_nondebug_quantized_model()


def run_converter(conv) -> bytes:
    """`conv.convert()` without the diagnostics the converter prints from C++ (its exceptions carry them)."""
    return quietly(conv.convert)


def quietly(convert) -> bytes:
    with quiet_stderr(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", "(?s).*tf.lite.Interpreter is deprecated")  # the debugger uses it
        return convert()


def convert_level(level: str, saved_model: Path, calibration=None, float_ops=INT8_FLOAT_OPS) -> bytes:
    """One level's flatbuffer."""
    from tensorflow.lite.python.convert_phase import ConverterError  # not exported under tf.lite

    try:
        conv = converter(level, saved_model, calibration)
        return quietly(lambda: keep_in_float(conv, float_ops)) if level == "int8" else run_converter(conv)
    except (OSError, ValueError, RuntimeError, ConverterError) as exc:
        raise ConversionError(f"converting {saved_model} to {level} failed ({first_line(exc)})") from exc


def calibration_ids(tokenizer_dir: Path, texts: list[str]):
    """Token ids of the calibration texts, encoded by the tokenizer the device will use."""
    import numpy as np

    _, tokenizer = load_tokenizer(tokenizer_dir)
    return np.array([tokenizer.encode(text) for text in texts], np.int32)


def convert(
    saved_model: Path,
    tokenizer_dir: Path,
    out: Path,
    labels: list[str] | None = None,
    calibration=None,
    float_ops=INT8_FLOAT_OPS,
) -> dict:
    """Write the bundle into the (empty) folder `out`: every level (int8 only with `calibration`, token
    ids), the tokenizer files, labels.json, manifest.json. Returns the manifest."""
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    tokenizer_dir, out = Path(tokenizer_dir), Path(out)
    spec = json.loads((tokenizer_dir / "tokenizer.json").read_text(encoding="utf-8"))
    labels = list(labels or spec.get("labels") or [])
    if len(labels) < 2:
        raise ConversionError(f"no labels: give --labels, or list them under 'labels' in {tokenizer_dir}")
    levels = [level for level in LEVELS if level != "int8" or calibration is not None]
    sizes, digests = {}, {}
    for level in levels:
        flatbuffer = convert_level(level, saved_model, calibration, float_ops)
        (out / f"{level}.tflite").write_bytes(flatbuffer)
        sizes[level], digests[level] = len(flatbuffer), hashlib.sha256(flatbuffer).hexdigest()
    for name in TOKENIZER_FILES:
        if (tokenizer_dir / name).exists():
            shutil.copy(tokenizer_dir / name, out / name)
    (out / "labels.json").write_text(json.dumps(labels))
    manifest = {
        "converter": f"tf.lite.TFLiteConverter (TensorFlow {tf.__version__})",
        "labels": labels,
        "source": str(saved_model),
        "bytes": sizes,
        "sha256": digests,
        "int8_float_ops": list(float_ops) if "int8" in levels else None,
        "calibration": {"texts": len(calibration)} if calibration is not None else None,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return manifest


def main(argv: list[str] | None = None) -> int:
    top = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    top.add_argument("--saved-model", type=Path, required=True, help="the core SavedModel (token ids in)")
    top.add_argument("--tokenizer", type=Path, required=True, help="folder with tokenizer.py and .json")
    top.add_argument("--calibration", type=Path, help="training texts, one per line (for int8)")
    top.add_argument("--labels", help="comma-separated, in the order of the probabilities")
    top.add_argument("--keep-in-float", default=",".join(INT8_FLOAT_OPS), help="int8: ops left in float32")
    top.add_argument("--out", type=Path, default=Path("model"), help="the bundle folder (%(default)s)")
    args = top.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with quiet_stderr():  # TensorFlow's start-up chatter from C++ (absl, oneDNN); errors still raise
        import tensorflow  # noqa: F401
    out = args.out.resolve()
    staging = None
    try:
        texts = None
        if args.calibration:
            lines = args.calibration.read_text(encoding="utf-8").splitlines()
            texts = [line for line in lines if line.strip()]
        calibration = calibration_ids(args.tokenizer, texts) if texts else None
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
        labels = args.labels.split(",") if args.labels else None
        float_ops = tuple(op for op in args.keep_in_float.split(",") if op)
        manifest = convert(args.saved_model, args.tokenizer, staging, labels, calibration, float_ops)
        shutil.rmtree(out, ignore_errors=True)
        staging.rename(out)
    except (ConversionError, ClientError, OSError, ValueError) as exc:
        print(f"error: {first_line(exc)} (README.md, 'Your own model')", file=sys.stderr)
        return 2
    finally:
        if staging is not None and staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    skipped = "" if "int8" in manifest["bytes"] else " (no int8: it needs --calibration)"
    sizes = ", ".join(f"{level} {size / 1e3:,.0f} kB" for level, size in manifest["bytes"].items())
    print(f"wrote {out}: {sizes}{skipped}; labels {manifest['labels']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
