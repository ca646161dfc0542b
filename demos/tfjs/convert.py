#!/usr/bin/env python3
"""Make the model folder the page loads, from your own model, with the real TF.js converter.

    python convert.py --saved-model CORE --tokenizer DIR --out model

CORE  a SavedModel whose `serving_default` signature takes int32 token ids [None, L] and returns
      probabilities [None, labels]: the part of your model after the text preprocessing (TF.js has no
      string ops, so the page tokenizes in JavaScript).
DIR   `tokenizer.json`, the spec `public/tokenizer.js` implements (with `sequence_length` and the
      `labels`), and `test_vectors.json`: texts with the ids your Python pipeline gives them (`npm test`
      checks the JavaScript tokenizer against every one).

It writes float32/ and float16/ (each `model.json` + weight shards), the two tokenizer files and a
`manifest.json` into a new folder that replaces --out only once it is complete. The converter is
`tensorflowjs_converter` from $TFJS_CONVERTER or PATH: install requirements-convert.txt in a virtual
environment of its own (README.md, "The converter lives in its own environment"). This script needs
nothing but Python's standard library.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

WEIGHTS = {"float32": [], "float16": ["--quantize_float16=*"]}
TOKENIZER_FILES = ("tokenizer.json", "test_vectors.json")


class ConversionError(Exception):
    """A conversion that cannot be done; the message says why."""


def converter_command() -> str:
    """The converter's command line: $TFJS_CONVERTER, else `tensorflowjs_converter` on PATH."""
    found = os.environ.get("TFJS_CONVERTER") or shutil.which("tensorflowjs_converter")
    if not found or not Path(found).exists():
        raise ConversionError(
            f"no TF.js converter ({found or 'tensorflowjs_converter is not on PATH'}): install "
            "requirements-convert.txt in a virtual environment of its own and set TFJS_CONVERTER to its "
            "bin/tensorflowjs_converter"
        )
    return found


def convert_weights(converter: str, saved_model: Path, out: Path, weights: str = "float32") -> None:
    """One SavedModel → one graph model folder (model.json + weight shards)."""
    if weights not in WEIGHTS:
        raise ConversionError(f"unknown weight type {weights!r}: choose one of {', '.join(WEIGHTS)}")
    command = [
        converter,
        "--input_format=tf_saved_model",
        "--output_format=tfjs_graph_model",
        "--signature_name=serving_default",
        *WEIGHTS[weights],
        str(saved_model),
        str(out),
    ]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    if done.returncode != 0 or not (out / "model.json").exists():
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ConversionError(f"tensorflowjs_converter failed on {saved_model}: {last}")


def read_spec(tokenizer_dir: Path) -> dict:
    """tokenizer.json, with the fields the page needs (it shows one bar per label)."""
    path = Path(tokenizer_dir) / "tokenizer.json"
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConversionError(f"cannot read the tokenizer spec {path}: {exc}") from None
    if len(spec.get("labels") or []) < 2 or not spec.get("sequence_length"):
        raise ConversionError(f"{path} needs 'labels' (two or more) and 'sequence_length'")
    return spec


def convert(saved_model: Path, tokenizer_dir: Path, out: Path, converter: str | None = None) -> dict:
    """Write both weight types, the tokenizer files and manifest.json into the (empty) folder `out`.
    One converter at a time: each is a TensorFlow process of about 740 MB. Returns the manifest."""
    saved_model, tokenizer_dir, out = Path(saved_model), Path(tokenizer_dir), Path(out)
    if not (saved_model / "saved_model.pb").exists():
        raise ConversionError(f"no SavedModel at {saved_model} (no saved_model.pb)")
    spec = read_spec(tokenizer_dir)
    converter = converter or converter_command()
    for weights in WEIGHTS:
        convert_weights(converter, saved_model, out / weights, weights)
    for name in TOKENIZER_FILES:
        if (tokenizer_dir / name).exists():
            shutil.copy(tokenizer_dir / name, out / name)
    manifest = {
        "converter": json.loads((out / "float32" / "model.json").read_text())["convertedBy"],
        "labels": spec["labels"],
        "source": str(saved_model),
        "bytes": {w: sum(f.stat().st_size for f in (out / w).iterdir()) for w in WEIGHTS},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return manifest


def main(argv: list[str] | None = None) -> int:
    top = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    top.add_argument("--saved-model", type=Path, required=True, help="the core SavedModel (token ids in)")
    top.add_argument("--tokenizer", type=Path, required=True, help="folder with tokenizer.json")
    top.add_argument("--out", type=Path, default=Path("model"), help="the model folder (%(default)s)")
    args = top.parse_args(argv)
    out = args.out.resolve()
    staging = None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
        manifest = convert(args.saved_model, args.tokenizer, staging)
        shutil.rmtree(out, ignore_errors=True)
        staging.rename(out)
    except (ConversionError, OSError, subprocess.TimeoutExpired) as exc:
        print(f"error: {str(exc).strip().splitlines()[0]} (README.md, 'Your own model')", file=sys.stderr)
        return 2
    finally:
        if staging is not None and staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    sizes = ", ".join(f"{w} {n / 1e6:.2f} MB" for w, n in manifest["bytes"].items())
    print(f"wrote {out}: {sizes}; labels {manifest['labels']} ({manifest['converter']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
