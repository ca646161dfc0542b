"""Train once, evaluate on the untouched test split, save the model with its manifest."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from nowwhat.artifacts import read_manifest, staged, write_json, write_manifest
from nowwhat.data import LABELS, load_splits
from nowwhat.errors import NowWhatError
from nowwhat.metrics import classification_metrics
from nowwhat.model import TrainConfig, assemble, train
from nowwhat.paths import model_dir

KERAS_FILE = "classifier.keras"
CORE_FILE = "core.keras"
REBUILD = "python -m nowwhat train"


def predict(model, texts: list[str], batch_size: int = 256):
    """Probabilities from the end-to-end Keras model (the reference for every parity check).

    Calls the model eagerly in fixed-size chunks rather than `model.predict`, which retraces its
    function for every new input length and warns about it.
    """
    import numpy as np
    import tensorflow as tf

    chunks = [texts[i : i + batch_size] for i in range(0, len(texts), batch_size)]
    return np.concatenate(
        [model(tf.constant(c), training=False).numpy() for c in chunks] or [np.empty((0, 2))]
    )


def train_and_save(config: TrainConfig = TrainConfig(), out: Path | None = None, verbose: int = 2) -> dict:
    """Train, evaluate on test, and write <build>/model atomically. Returns the manifest."""
    out = Path(out or model_dir())
    splits = load_splits(seed=config.seed)
    trained = train(splits, config, verbose=verbose)
    classifier = assemble(trained.vectorizer, trained.core)
    metrics = {
        split: classification_metrics(splits.label_ids(split), predict(classifier, splits.texts(split)))
        for split in ("validation", "test")
    }
    with staged(out) as tmp:
        classifier.save(tmp / KERAS_FILE)
        trained.core.save(tmp / CORE_FILE)
        write_json(tmp / "history.json", {k: [float(x) for x in v] for k, v in trained.history.items()})
        manifest = write_manifest(
            tmp,
            "trained model",
            labels=list(LABELS),
            data_fingerprint=splits.fingerprint,
            rows={"train": len(splits.train), "validation": len(splits.validation), "test": len(splits.test)},
            dropped_train_test_overlap=splits.dropped_overlap,
            config=asdict(config),
            train_seconds=round(trained.seconds, 2),
            epochs_run=len(trained.history.get("loss", [])),
            parameters=int(trained.core.count_params()),
            metrics=metrics,
        )
    return manifest


def load_trained(folder: Path | None = None):
    """(end-to-end Keras model, core Keras model, manifest) from <build>/model."""
    import keras

    folder = Path(folder or model_dir())
    manifest = read_manifest(folder, "trained model", REBUILD)
    try:
        classifier = keras.models.load_model(folder / KERAS_FILE)
        core = keras.models.load_model(folder / CORE_FILE)
    except (OSError, ValueError) as exc:
        raise NowWhatError(
            f"the trained model in {folder} cannot be loaded ({exc}): run `{REBUILD}`"
        ) from exc
    return classifier, core, manifest


def history(folder: Path | None = None) -> dict:
    return json.loads((Path(folder or model_dir()) / "history.json").read_text())
