"""Log a review classifier to an MLflow registry, register it as a new version, point an alias at it.

    python register.py keras --model-dir MODEL_DIR --alias champion
    python register.py sklearn --pipeline PIPELINE.joblib --labels great,other --alias challenger
    python register.py alias champion 2          # move an alias to another version
    python register.py list                      # the versions and their aliases

keras    MODEL_DIR holds manifest.json (model_name, labels) and serving/<name>/<version>/, the layout of
         the Flask and TF Serving demos: the newest SavedModel, text in, `probabilities` out, is logged
         as a pyfunc "from code" (review_pyfunc.py)
sklearn  PIPELINE is a fitted scikit-learn Pipeline saved with joblib, text in, `predict_proba` out, logged
         with MLflow's sklearn flavour (stored with skops). Load only files you trust: joblib runs code.

The registry is a folder (`--registry`, default ./mlruns): serve a version by alias with
`mlflow models serve -m models:/reviews@champion --env-manager local -h 127.0.0.1 -p 5002`.
Both kinds answer `{"inputs": ["review", ...]}` with `{"predictions": [[p, ...], ...]}` in label order;
the labels are in the version's metadata (`python register.py list`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")  # a folder registry, no database server
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = Path(__file__).resolve().parent
EXAMPLE = ["Great coffee, will buy again!", "Stale and bitter, never again."]
NAME = "reviews"


class RegistryError(Exception):
    """What went wrong, in one line the command prints."""


def connect(registry: Path):
    """The MLflow client of a folder registry (MLflow makes it when missing)."""
    import mlflow

    mlflow.set_tracking_uri(registry.resolve().as_uri())
    return mlflow.MlflowClient()


def signature(labels: list[str], dtype: str):
    """A batch of strings in, one row of len(labels) probabilities out."""
    import numpy as np
    from mlflow.models import ModelSignature
    from mlflow.types import Schema, TensorSpec

    return ModelSignature(
        Schema([TensorSpec(np.dtype(str), (-1,))]), Schema([TensorSpec(np.dtype(dtype), (-1, len(labels)))])
    )


def requirements(*packages: str) -> list[str]:
    """The installed ones of `packages`, pinned: given to MLflow, so that it does not load the model once
    more in a child process to infer them (for a moment, twice the memory)."""
    from importlib.metadata import distributions

    installed = {d.metadata["Name"].lower().replace("_", "-"): d.version for d in distributions()}
    return [f"{p}=={installed[p]}" for p in packages if p in installed]


def promote(client, version: str, alias: str | None, name: str = NAME) -> None:
    if alias:
        client.set_registered_model_alias(name, alias, version)


def log_keras(model_dir: Path, registry: Path, alias: str | None = None, name: str = NAME) -> dict:
    """The newest SavedModel under MODEL_DIR as a new version of `name`; returns what was registered."""
    import mlflow

    manifest, saved_model = read_model_dir(model_dir)
    client = connect(registry)
    with mlflow.start_run(run_name=f"{manifest['model_name']} (keras)"):
        logged = mlflow.pyfunc.log_model(
            name="model",
            python_model=str(HERE / "review_pyfunc.py"),
            artifacts={"saved_model": str(saved_model)},
            input_example=EXAMPLE,
            pip_requirements=requirements("mlflow-skinny", "tensorflow-cpu", "tensorflow"),
            metadata={"labels": manifest["labels"], "framework": "keras"},
            registered_model_name=name,
        )
    version = str(logged.registered_model_version)
    promote(client, version, alias, name)
    return {"name": name, "version": version, "alias": alias, "labels": manifest["labels"], "kind": "keras"}


def log_sklearn(
    pipeline, labels: list[str], registry: Path, alias: str | None = None, name: str = NAME
) -> dict:
    """A fitted text pipeline as a new version of `name`; returns what was registered."""
    import mlflow
    import numpy as np

    classes = getattr(pipeline, "classes_", None)
    if classes is None or not hasattr(pipeline, "predict_proba"):
        raise RegistryError("the pipeline must be fitted and have predict_proba (a classifier)")
    if len(classes) != len(labels):
        raise RegistryError(f"the pipeline has {len(classes)} classes and --labels names {len(labels)}")
    client = connect(registry)
    with mlflow.start_run(run_name=f"{name} (sklearn)"):
        logged = mlflow.sklearn.log_model(
            pipeline,
            name="model",
            signature=signature(labels, "float64"),
            input_example=np.array(EXAMPLE),
            pyfunc_predict_fn="predict_proba",
            pip_requirements=requirements("mlflow-skinny", "scikit-learn", "skops"),
            metadata={"labels": labels, "framework": "sklearn"},
            registered_model_name=name,
        )
    version = str(logged.registered_model_version)
    promote(client, version, alias, name)
    return {"name": name, "version": version, "alias": alias, "labels": labels, "kind": "sklearn"}


def read_model_dir(model_dir: Path) -> tuple[dict, Path]:
    """(manifest, newest SavedModel folder) of a MODEL_DIR, or a RegistryError saying what is missing."""
    try:
        manifest = json.loads((model_dir / "manifest.json").read_text())
        versions = sorted(int(p.name) for p in (model_dir / "serving" / manifest["model_name"]).iterdir()
                          if p.name.isdigit())
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RegistryError(f"{model_dir} is not a model folder (manifest.json + serving/<name>/<version>/): "
                            f"{exc}") from None
    if not versions or not manifest.get("labels"):
        raise RegistryError(f"{model_dir} has no SavedModel version or no labels in manifest.json")
    return manifest, model_dir / "serving" / manifest["model_name"] / str(versions[-1])


def versions(registry: Path, name: str = NAME) -> list[dict]:
    """Every registered version of `name`: number, aliases, framework, labels."""
    import mlflow

    client = connect(registry)
    found = []
    for version in client.search_model_versions(f"name='{name}'"):
        info = mlflow.models.get_model_info(f"models:/{name}/{version.version}")
        found.append({"version": version.version, "aliases": sorted(version.aliases),
                      "framework": info.metadata["framework"], "labels": info.metadata["labels"]})
    return sorted(found, key=lambda v: int(v["version"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registry", type=Path, default=Path("mlruns"), help="registry folder (%(default)s)")
    parser.add_argument("--name", default=NAME, help="registered model name (%(default)s)")
    sub = parser.add_subparsers(dest="command", required=True)
    keras = sub.add_parser("keras", help="a SavedModel folder of the Flask/TF Serving layout")
    keras.add_argument("--model-dir", type=Path, default=Path(os.environ.get("MODEL_DIR", "model")))
    sklearn = sub.add_parser("sklearn", help="a fitted text Pipeline saved with joblib")
    sklearn.add_argument("--pipeline", type=Path, required=True, help="the .joblib file")
    sklearn.add_argument("--labels", required=True, help="comma-separated, in the order of predict_proba")
    for kind in (keras, sklearn):
        kind.add_argument("--alias", help="point this alias (champion, challenger, ...) at the new version")
    alias = sub.add_parser("alias", help="point an alias at a version")
    alias.add_argument("alias")
    alias.add_argument("version")
    sub.add_parser("list", help="the registered versions")
    args = parser.parse_args(argv)
    try:
        if args.command == "keras":
            print(json.dumps(log_keras(args.model_dir, args.registry, args.alias, args.name)))
        elif args.command == "sklearn":
            print(json.dumps(log_sklearn(load_pipeline(args.pipeline), args.labels.split(","), args.registry,
                                         args.alias, args.name)))
        elif args.command == "alias":
            set_alias(args.registry, args.alias, args.version, args.name)
            print(f"{args.name}@{args.alias} -> version {args.version}")
        else:
            for version in versions(args.registry, args.name):
                print(json.dumps(version))
    except RegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def load_pipeline(path: Path):
    import joblib

    try:
        return joblib.load(path)
    except (OSError, EOFError, ValueError) as exc:
        raise RegistryError(f"cannot read the pipeline {path}: {exc}") from None


def set_alias(registry: Path, alias: str, version: str, name: str = NAME) -> None:
    from mlflow.exceptions import MlflowException

    try:
        connect(registry).set_registered_model_alias(name, alias, version)
    except MlflowException as exc:
        raise RegistryError(f"no version {version} of {name!r} in {registry}: {exc.message}") from None


if __name__ == "__main__":
    sys.exit(main())
