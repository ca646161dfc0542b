"""Convert the core model to LiteRT (TensorFlow Lite) at four quantization levels, as one edge bundle.

Only the integer-id core converts to builtin ops (the text preprocessing needs the Flex delegate, which
the pip runtimes lack: see `nowwhat.tflite.flex`), so the bundle ships the tokenizer next to the models.
`python -m nowwhat tflite convert` writes <build>/tflite/model:

    float32.tflite   the weights as trained
    float16.tflite   weights stored as float16, turned back into float32 when the model loads
    dynamic.tflite   dynamic-range: tensors of ≥ 1,024 elements (here: the embedding) stored as int8
    int8.tflite      int8: weights and activations int8, calibrated on training reviews, except the
                     mean over the tokens (SUM, MAXIMUM, DIV), kept in float32 so one-word reviews
                     compute; token ids in (int32, already integers), int8 probabilities out
    tokenizer.json, tokenizer.py, test_vectors.json   copied from the export, unchanged
    labels.json, manifest.json                        sizes, SHA-256 (the client checks it), tolerances

The conversion itself is the demo's own step, `demos/tflite/convert.py` (a learner converts their model
with it); this module runs it on the workshop's export and adds where the bundle came from.
`demos/tflite/classify.py` is the edge client that runs it with nothing but ai-edge-litert and numpy.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
from pathlib import Path

from nowwhat.artifacts import read_manifest, staged, write_json, write_manifest
from nowwhat.errors import NowWhatError, reports_errors
from nowwhat.export import ensure_derived, load_export
from nowwhat.paths import build_dir, core_dir, demo_script, tokenizer_dir

KIND = "tflite bundle"
REBUILD = "python -m nowwhat tflite convert"
demo = demo_script("tflite", "convert")
LEVELS, INT8_FLOAT_OPS = demo.LEVELS, demo.INT8_FLOAT_OPS
converter, keep_in_float, run_converter, quietly = (
    demo.converter, demo.keep_in_float, demo.run_converter, demo.quietly
)

#: Largest |Δp| against Keras, per level (what the tests enforce, on reviews of any length). float32: the
#: same arithmetic in another order (measured ≈ 6e-7). float16: weights rounded to 11 significant bits,
#: ≤ 4.9e-4 relative per weight (measured ≈ 1e-4). dynamic: the embedding rounded to 255 steps (measured
#: ≈ 3e-3 on reviews, 1.5e-2 on one-word texts). int8: embedding, mask, mean and output each rounded to
#: 8 bits, probabilities in steps of 1/256 (measured ≈ 1.2e-2 on reviews and on one-word texts).
TOLERANCES = {"float32": 1e-5, "float16": 1e-3, "dynamic": 3e-2, "int8": 3e-2}

#: Calibration reviews for full-integer quantization: the first N of the (shuffled) training split.
REPRESENTATIVE_REVIEWS = 500


def tflite_dir() -> Path:
    """This chapter's build folder: the bundle, the Flex experiment and the benchmark figures."""
    return build_dir() / "tflite"


def bundle_dir() -> Path:
    return tflite_dir() / "model"


def representative_ids(n: int = REPRESENTATIVE_REVIEWS):
    """Token ids of n TRAINING reviews (never test), encoded by the exported tokenizer the client uses."""
    import numpy as np

    from nowwhat.data import load_splits
    from nowwhat.tokenizer import Tokenizer

    tokenizer = Tokenizer.from_spec(tokenizer_dir() / "tokenizer.json")
    return np.array([tokenizer.encode(text) for text in load_splits().texts("train")[:n]], np.int32)


def convert_level(level: str, saved_model: Path, out: Path, calibration=None) -> int:
    """Write one .tflite file; returns its size in bytes."""
    try:
        flatbuffer = demo.convert_level(level, saved_model, calibration)
    except demo.ConversionError as exc:
        raise NowWhatError(f"{exc}: export it again with `python -m nowwhat export`") from exc
    out.write_bytes(flatbuffer)
    return len(flatbuffer)


def convert(out: Path | None = None) -> dict:
    """Every level plus the tokenizer files, atomically, into the bundle, by the demo's own conversion
    step; the manifest adds where it came from (export, data) and the tolerances. Returns the manifest."""
    out = Path(out or bundle_dir())
    exported = load_export()
    calibration = representative_ids()
    saved_model = core_dir() / "saved_model"
    with staged(out) as tmp:
        try:
            made = demo.convert(saved_model, tokenizer_dir(), tmp, exported["labels"], calibration)
        except demo.ConversionError as exc:
            raise NowWhatError(f"{exc}: export it again with `python -m nowwhat export`") from exc
        made["calibration"] = {"split": "train", "reviews": len(calibration)}
        return write_manifest(
            tmp,
            KIND,
            **made,
            data_fingerprint=exported["data_fingerprint"],
            export_created=exported["created"],
            tolerances=TOLERANCES,
        )


def variant_bundle(out: Path, level: str, flatbuffer: bytes) -> Path:
    """A copy of the bundle in `out` whose `level` model is `flatbuffer` (its manifest updated), so another
    conversion runs through the same edge client: how the chapter replays the fully quantized int8 model."""
    ensure_converted()
    out = Path(out)
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(bundle_dir(), out)
    (out / f"{level}.tflite").write_bytes(flatbuffer)
    manifest = read_manifest(out, KIND, REBUILD)
    manifest["bytes"][level] = len(flatbuffer)
    manifest["sha256"][level] = hashlib.sha256(flatbuffer).hexdigest()
    write_json(out / "manifest.json", manifest)
    return out


def ensure_converted(in_child: bool = False) -> dict:
    """The bundle's manifest, converting first when it is missing or older than the export (in a child
    process when `in_child`)."""
    return ensure_derived(bundle_dir(), KIND, REBUILD, convert, "LiteRT bundle", in_child=in_child)


def inspect(path: Path) -> dict:
    """What a .tflite file holds: operators, input, output, and each stored weight matrix with its dtype."""
    from ai_edge_litert.interpreter import Interpreter

    if not Path(path).is_file():
        raise NowWhatError(f"no LiteRT model at {path}: run `{REBUILD}`")
    interpreter = Interpreter(model_path=str(path))
    ops = interpreter._get_ops_details()  # the only way the Python API lists operators
    computed = {i for op in ops for i in op["outputs"]} | {
        d["index"] for d in interpreter.get_input_details()
    }
    weights = [
        {"tensor": t["name"], "shape": t["shape"].tolist(), "dtype": t["dtype"].__name__}
        for t in interpreter.get_tensor_details()
        if t["index"] not in computed and t["shape"].size == 2  # stored in the file, a matrix
    ]
    return {
        "operators": sorted({op["op_name"] for op in ops}),
        "input": _describe(interpreter.get_input_details()[0]),
        "output": _describe(interpreter.get_output_details()[0]),
        "weights": weights,
    }


def _describe(detail: dict) -> str:
    scale, zero_point = detail["quantization"]
    text = f"{detail['dtype'].__name__} {detail['shape_signature'].tolist()}"
    return text + (f" (scale {scale:.6g}, zero point {zero_point})" if scale else "")


@reports_errors
def main(argv: list[str] | None = None) -> int:
    top = argparse.ArgumentParser(prog="python -m nowwhat tflite", description="LiteRT conversion")
    sub = top.add_subparsers(dest="command", required=True)
    sub.add_parser("convert", help="convert the exported core model at every quantization level")
    sub.add_parser("inspect", help="operators, input, output and stored weights of each level")
    args = top.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.command == "convert":
        manifest = convert()
        sizes = ", ".join(f"{level} {n / 1e3:.0f} kB" for level, n in manifest["bytes"].items())
        print(f"converted {manifest['source']} → {bundle_dir()} ({sizes})")
    else:
        for level in LEVELS:
            details = inspect(bundle_dir() / f"{level}.tflite")
            print(f"{level}: {details['input']} → {details['output']}; {', '.join(details['operators'])}")
    return 0
