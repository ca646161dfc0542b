"""MLServer, started from demos/mlserver in its own environment (.venv-mlserver, `make setup`) on free
loopback ports, serving the workshop's Keras model as an ONNX bundle (`nowwhat onnx convert`) and chapter
01's scikit-learn baseline with MLServer's own sklearn runtime, stopped whatever happens."""

from __future__ import annotations

import os
from pathlib import Path

import requests

from nowwhat import processes
from nowwhat.errors import NowWhatError
from nowwhat.paths import REPO_ROOT, build_dir

DEMO_DIR = REPO_ROOT / "demos" / "mlserver"
MLSERVER = REPO_ROOT / ".venv-mlserver" / "bin" / "mlserver"
#: The demo's Keras model folders: the same model and runtime, adaptive batching off and on.
MODELS = ("reviews", "reviews-batched")
#: The scikit-learn pipeline, through MLServer's sklearn runtime (answers `predict_proba`).
SKLEARN_MODEL = "reviews-sklearn"


def pipeline_path() -> Path:
    return build_dir() / "mlserver" / "pipeline.joblib"


def ensure_pipeline() -> Path:
    """Chapter 01's baseline, fitted on the training split and saved with joblib, unless it is there."""
    import joblib

    from nowwhat.baseline import fit
    from nowwhat.data import load_splits

    path = pipeline_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(fit(load_splits()), path.with_suffix(".part"))
        path.with_suffix(".part").rename(path)  # whole or absent, even when interrupted
    return path


class MLServer:
    """`with MLServer() as server: requests.post(server.infer_url("reviews"), json=…)`."""

    def __init__(self, model_dir: Path | None = None, timeout: float = 120):
        from nowwhat.onnx_runtime.convert import bundle_dir, ensure_converted

        if model_dir is None:
            ensure_converted()
        self.pipeline = ensure_pipeline()
        self.model_dir, self.timeout = Path(model_dir or bundle_dir("keras")), timeout
        self.ports = {kind: processes.free_port() for kind in ("HTTP", "GRPC", "METRICS")}
        self.url = f"http://127.0.0.1:{self.ports['HTTP']}"
        self.grpc_target = f"127.0.0.1:{self.ports['GRPC']}"
        self.metrics_url = f"http://127.0.0.1:{self.ports['METRICS']}/metrics"
        self.log_path = build_dir() / "mlserver" / "mlserver.log"
        self.process = None

    def infer_url(self, model: str) -> str:
        return f"{self.url}/v2/models/{model}/infer"

    def __enter__(self) -> MLServer:
        if not MLSERVER.exists():
            raise NowWhatError(f"MLServer is not installed at {MLSERVER}: run `make setup-mlserver`")
        env = {**os.environ, "MODEL_DIR": str(self.model_dir), "PIPELINE": str(self.pipeline)}
        env |= {f"MLSERVER_{kind}_PORT": str(port) for kind, port in self.ports.items()}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)

        def every_model_ready() -> bool:
            models = (*MODELS, SKLEARN_MODEL)
            return all(requests.get(f"{self.url}/v2/models/{m}/ready", timeout=5).ok for m in models)

        argv = [str(MLSERVER), "start", "."]
        self.process, self.log = processes.start_ready(
            argv, DEMO_DIR, env, self.log_path, every_model_ready, self.timeout, "MLServer"
        )
        return self

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            processes.stop(self.process, timeout=30, whole_group=True)
        self.log.close()


def infer_body(texts: list[str]) -> dict:
    """The Open Inference Protocol's request: one BYTES input, the reviews."""
    return {"inputs": [{"name": "text", "shape": [len(texts)], "datatype": "BYTES", "data": texts}]}


def probabilities(answer: dict) -> list[list[float]]:
    (output,) = [o for o in answer["outputs"] if o["name"] == "probabilities"]
    rows, columns = output["shape"]
    return [output["data"][i * columns : (i + 1) * columns] for i in range(rows)]
