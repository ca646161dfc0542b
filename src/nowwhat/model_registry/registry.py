"""The workshop's models registered by the demo's own step (`demos/mlflow/register.py`, the one a learner
runs on their model). `python -m nowwhat mlflow register` writes <build>/mlflow:

    mlruns/          the registry, one model `reviews`: version 1 the exported Keras model (`champion`),
                     version 2 chapter 01's baseline fitted again on the same training split (`challenger`)
    manifest.json    written last: what was registered, from which export

`Scorer("champion")` serves the version an alias names (or `Scorer("1")` a version by number) with
`mlflow models serve` on a free loopback port.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

import requests

from nowwhat import processes
from nowwhat.artifacts import write_manifest
from nowwhat.errors import NowWhatError, reports_errors
from nowwhat.export import ensure_derived, load_export
from nowwhat.paths import build_dir, demo_script, export_dir

KIND = "mlflow registry"
REBUILD = "python -m nowwhat mlflow register"
NAME = "reviews"
ALIASES = {"keras": "champion", "sklearn": "challenger"}
demo = demo_script("mlflow", "register")


def mlflow_dir() -> Path:
    return build_dir() / "mlflow"


def registry_dir() -> Path:
    return mlflow_dir() / "mlruns"


def register() -> dict:
    """Both models into a new registry; returns the manifest.

    Built in place, not staged and renamed: MLflow's file store records absolute artifact paths. The
    manifest, written last, marks a complete registry."""
    from nowwhat.baseline import fit
    from nowwhat.data import load_splits

    exported = load_export()
    shutil.rmtree(mlflow_dir(), ignore_errors=True)
    mlflow_dir().mkdir(parents=True)  # not mlruns/: MLflow makes its default experiment with the folder
    try:
        keras = demo.log_keras(export_dir(), registry_dir(), ALIASES["keras"], NAME)
        baseline = fit(load_splits())
        sklearn = demo.log_sklearn(baseline, exported["labels"], registry_dir(), ALIASES["sklearn"], NAME)
    except demo.RegistryError as exc:
        raise NowWhatError(f"{exc}: export it again with `python -m nowwhat export`") from exc
    return write_manifest(
        mlflow_dir(),
        KIND,
        name=NAME,
        versions={"keras": keras, "sklearn": sklearn},
        data_fingerprint=exported["data_fingerprint"],
        export_created=exported["created"],
    )


def ensure_registered(in_child: bool = False) -> dict:
    """The registry's manifest, registering first when it is missing or older than the export (in a child
    process when `in_child`: logging the Keras model imports TensorFlow)."""
    return ensure_derived(mlflow_dir(), KIND, REBUILD, register, "MLflow registry", "registering", in_child)


def tracking_env() -> dict:
    """The environment every MLflow command needs to find the workshop's registry."""
    return {"MLFLOW_TRACKING_URI": registry_dir().resolve().as_uri(), "MLFLOW_ALLOW_FILE_STORE": "true"}


def model_uri(alias_or_version: str) -> str:
    """`models:/reviews@champion` for an alias, `models:/reviews/1` for a version number."""
    target = str(alias_or_version)
    return f"models:/{NAME}/{target}" if target.isdigit() else f"models:/{NAME}@{target}"


class Scorer:
    """`with Scorer("champion") as scorer: requests.post(scorer.url, json={"inputs": [...]})`: the
    version an alias names (or a version number), served by `mlflow models serve` on 127.0.0.1, stopped
    whatever happens. The alias is looked up once, when the server starts."""

    def __init__(self, alias_or_version: str, timeout: float = 180):
        ensure_registered()
        self.model_uri, self.timeout = model_uri(alias_or_version), timeout
        self.port = processes.free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.base}/invocations"
        self.log_path = mlflow_dir() / f"serve-{alias_or_version}.log"
        self.process = None

    def __enter__(self) -> Scorer:
        bin_dir = Path(sys.executable).parent  # the scoring server runs this environment's own tools
        env = {**os.environ, **tracking_env(), "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
        argv = [str(bin_dir / "mlflow"), "models", "serve", "-m", self.model_uri,
                "--env-manager", "local", "-h", "127.0.0.1", "-p", str(self.port)]  # fmt: skip

        def pinged() -> bool:
            return requests.get(f"{self.base}/ping", timeout=5).ok

        self.process, self.log = processes.start_ready(
            argv, mlflow_dir(), env, self.log_path, pinged, self.timeout, "mlflow models serve"
        )
        return self

    def predict(self, texts: list[str]) -> list[list[float]]:
        answer = requests.post(self.url, json={"inputs": texts}, timeout=60)
        if not answer.ok:
            raise NowWhatError(f"the MLflow server answered {answer.status_code}: {answer.text[:300]}")
        return answer.json()["predictions"]

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            processes.stop(self.process, timeout=30, whole_group=True)
        self.log.close()


@reports_errors
def main(argv: list[str] | None = None) -> int:
    top = argparse.ArgumentParser(prog=REBUILD, description=__doc__.splitlines()[0])
    top.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    started = time.perf_counter()
    manifest = register()
    for kind, made in manifest["versions"].items():
        print(f"{NAME} version {made['version']} ({kind}) @{made['alias']}")
    print(f"registered in {time.perf_counter() - started:.0f} s → {registry_dir()}")
    return 0
