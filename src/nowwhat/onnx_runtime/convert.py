"""The workshop's two models as ONNX Runtime bundles, by the demo's own conversion step
(`demos/onnx/convert.py`, the one a learner runs on their model). `python -m nowwhat onnx convert`
writes <build>/onnx:

    keras/     the core model (token ids in, tf2onnx) with the exported tokenizer files
    sklearn/   chapter 01's baseline pipeline, fitted again on the same training split (skl2onnx):
               TF-IDF and logistic regression in one graph, text in

`demos/onnx/classify.py` runs either with nothing but onnxruntime and numpy.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from nowwhat.artifacts import staged, write_manifest
from nowwhat.errors import NowWhatError, reports_errors
from nowwhat.export import ensure_derived, load_export
from nowwhat.paths import build_dir, core_dir, demo_script, tokenizer_dir

KIND = "onnx bundles"
REBUILD = "python -m nowwhat onnx convert"
MODELS = ("keras", "sklearn")
demo = demo_script("onnx", "convert")


def onnx_dir() -> Path:
    return build_dir() / "onnx"


def bundle_dir(model: str) -> Path:
    """One model's bundle: what `classify.py --model-dir` takes."""
    return onnx_dir() / model


def convert(out: Path | None = None) -> dict:
    """Both bundles, atomically, into `out` (default <build>/onnx); returns the manifest."""
    from nowwhat.baseline import fit
    from nowwhat.data import load_splits

    exported = load_export()
    with staged(Path(out or onnx_dir())) as tmp:
        labels, made = exported["labels"], {}
        for model in MODELS:
            (tmp / model).mkdir()
        try:
            core = core_dir() / "saved_model"
            made["keras"] = demo.convert_keras(core, tokenizer_dir(), tmp / "keras", labels)
            baseline, source = fit(load_splits()), "nowwhat.baseline.fit(load_splits())"
            made["sklearn"] = demo.convert_sklearn(baseline, tmp / "sklearn", labels, source=source)
        except demo.ConversionError as exc:
            raise NowWhatError(f"{exc}: export it again with `python -m nowwhat export`") from exc
        return write_manifest(
            tmp,
            KIND,
            models=made,
            data_fingerprint=exported["data_fingerprint"],
            export_created=exported["created"],
        )


def ensure_converted(in_child: bool = False) -> dict:
    """The bundles' manifest, converting first when they are missing or older than the export (in a child
    process when `in_child`: the conversion imports TensorFlow)."""
    return ensure_derived(onnx_dir(), KIND, REBUILD, convert, "ONNX bundles", in_child=in_child)


def classifier(model: str):
    """The demo's client on one of the workshop's bundles."""
    ensure_converted()
    return demo_script("onnx", "classify").OnnxClassifier(bundle_dir(model))


@reports_errors
def main(argv: list[str] | None = None) -> int:
    top = argparse.ArgumentParser(prog="python -m nowwhat onnx convert", description=__doc__.splitlines()[0])
    top.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    manifest = convert()
    for model, made in manifest["models"].items():
        size = f"{made['bytes'] / 1e3:,.0f} kB"
        print(f"{model}: {bundle_dir(model)} ({size}, {made['input']} in, {made['converter']})")
    return 0
