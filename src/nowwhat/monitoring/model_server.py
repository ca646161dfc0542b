"""TF Serving's development stand-in (demos/tf-serving/devserver, not TensorFlow Serving) serving the
exported model with the demo's config/monitoring.config, so chapter 07 can scrape a model server's own
metrics at the path that file names."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import requests

from nowwhat import processes
from nowwhat.paths import MODEL_NAME, REPO_ROOT, serving_base

DEMO_DIR = REPO_ROOT / "demos" / "tf-serving"
MONITORING_CONFIG = DEMO_DIR / "config" / "monitoring.config"


def start_tf_serving_stand_in(folder: Path, timeout: float = 180):
    """Start it on a free loopback REST port (no gRPC) and wait until the model is available: (process,
    open log, REST URL). Stop it with `processes.stop(process, 30)` and close the log."""
    port = processes.free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [
        sys.executable, "-m", "tfserving_devserver", "--port=0", f"--rest_api_port={port}",
        f"--model_name={MODEL_NAME}", f"--model_base_path={serving_base()}",
        f"--monitoring_config_file={MONITORING_CONFIG}",
    ]  # fmt: skip
    path = os.pathsep.join(filter(None, [str(DEMO_DIR / "devserver"), os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=path)
    process, log = processes.start_ready(
        argv, folder, env, folder / "tf-serving-stand-in.log",
        lambda: requests.get(f"{url}/v1/models/{MODEL_NAME}", timeout=2).ok, timeout,
        "the TF Serving development stand-in",
    )  # fmt: skip
    return process, log, url
