"""The TF Serving chapter's model repository: <build>/tf-serving/models/reviews/{1,2}/.

Version 1 is a copy of the foundation's serving export (which this chapter never writes to); version 2
is the same model retrained with another seed, exported with the same signature, so an upgrade and a
canary have two genuinely different models to route between. `python -m nowwhat tf-serving models`
builds it (atomically, with a manifest); `--quick` trains version 2 briefly (for CI). The demo's
`run.sh` serves it with MODEL_DIR pointing here (`make serve-tf`).
"""

from __future__ import annotations

import argparse
import shutil
from dataclasses import replace
from pathlib import Path

from nowwhat.artifacts import read_manifest, staged, write_manifest
from nowwhat.errors import NowWhatError, reports_errors
from nowwhat.paths import MODEL_NAME, build_dir, export_dir, serving_base

KIND = "tf-serving models"
REBUILD = "python -m nowwhat tf-serving models"
V2_SEED = 7


def chapter_dir() -> Path:
    return build_dir() / "tf-serving"


def models_dir() -> Path:
    """What TF Serving mounts as /models: <models>/reviews/<version>/saved_model.pb."""
    return chapter_dir() / "models"


def build(quick: bool = False) -> dict:
    """Copy version 1 from the export, retrain and export version 2, write the manifest."""
    import tensorflow as tf

    from nowwhat.data import load_splits
    from nowwhat.export import load_export, write_serving_model
    from nowwhat.metrics import classification_metrics
    from nowwhat.model import TrainConfig, assemble, train
    from nowwhat.training import predict

    tf.get_logger().setLevel("ERROR")
    export = load_export()
    config = TrainConfig(seed=V2_SEED)
    if quick:
        config = replace(config, epochs=2)
    splits = load_splits(seed=config.seed)
    trained = train(splits, config, verbose=0)
    classifier = assemble(trained.vectorizer, trained.core)
    metrics = classification_metrics(splits.label_ids("test"), predict(classifier, splits.texts("test")))
    with staged(models_dir()) as tmp:
        shutil.copytree(serving_base() / "1", tmp / MODEL_NAME / "1")
        write_serving_model(classifier, tmp / MODEL_NAME / "2")
        return write_manifest(
            tmp,
            KIND,
            model_name=MODEL_NAME,
            data_fingerprint=export["data_fingerprint"],
            export_created=export["created"],
            versions={
                "1": {
                    "source": f"copy of {(serving_base() / '1').relative_to(build_dir())}",
                    "test_accuracy": export["metrics"]["test"]["accuracy"],
                },
                "2": {
                    "source": f"retrained with seed {config.seed}, {config.epochs} epochs at most",
                    "test_accuracy": metrics["accuracy"],
                    "epochs_run": len(trained.history.get("loss", [])),
                },
            },
        )


def load(rebuild_if_stale: bool = True, quick: bool = False) -> dict:
    """The manifest of a current model repository, building it when missing or older than the export."""
    from nowwhat.export import load_export

    export = load_export()
    try:
        manifest = read_manifest(models_dir(), KIND, REBUILD)
    except NowWhatError:
        if not rebuild_if_stale:
            raise
        return build(quick)
    if manifest.get("export_created") != export["created"] and rebuild_if_stale:
        return build(quick)
    return manifest


@reports_errors
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nowwhat tf-serving models", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="train version 2 for 2 epochs only")
    parser.add_argument(
        "--if-missing", action="store_true", help="keep a folder already built from the current export"
    )
    args = parser.parse_args(argv)
    manifest = load(quick=args.quick) if args.if_missing else build(args.quick)
    for version, info in manifest["versions"].items():
        print(f"version {version}: test accuracy {info['test_accuracy']:.3f} ({info['source']})")
    print(f"→ {models_dir() / MODEL_NAME}  (export: {export_dir()})")
    return 0
