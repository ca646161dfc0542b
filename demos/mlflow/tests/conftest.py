"""The README's commands in a copy of this folder alone: register.py logs the small models of
small_models.py to a folder registry (Keras as `champion`, scikit-learn as `challenger`), and
`mlflow models serve` serves each alias on a free loopback port."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from small_models import LABELS, make_keras, make_sklearn

DEMO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "TF_CPP_MIN_LOG_LEVEL": "2"}
ENV.pop("MODEL_DIR", None)


def run(folder: Path, *args: str) -> subprocess.CompletedProcess:
    """`python register.py ARGS` in `folder`, as the README says."""
    return subprocess.run([sys.executable, "register.py", *args], cwd=folder, env=ENV, capture_output=True,
                          text=True, timeout=300)  # fmt: skip


def post(url: str, raw: bytes) -> tuple[int, dict]:
    """(status, JSON answer) of a POST of `raw` bytes as JSON."""
    request = urllib.request.Request(url, data=raw, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Serving:
    """`mlflow models serve -m models:/reviews@ALIAS --env-manager local -h 127.0.0.1 -p PORT`."""

    def __init__(self, folder: Path, alias: str):
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = folder / f"serve-{alias}.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115 (closed in stop)
        env = {**ENV, "MLFLOW_TRACKING_URI": (folder / "mlruns").as_uri(), "MLFLOW_ALLOW_FILE_STORE": "true"}
        command = ["mlflow", "models", "serve", "-m", f"models:/reviews@{alias}", "--env-manager", "local",
                   "-h", "127.0.0.1", "-p", str(port)]  # fmt: skip
        self.process = subprocess.Popen(command, cwd=folder, env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip

    def wait_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log_path.read_text()[-3000:]
            try:
                with urllib.request.urlopen(self.url + "/ping", timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise AssertionError("mlflow models serve was not ready: " + self.log_path.read_text()[-3000:])

    def invoke(self, body) -> tuple[int, dict]:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        return post(self.url + "/invocations", raw)

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(30)
        finally:
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGKILL)
            self.log.close()


@pytest.fixture(scope="session")
def registered(tmp_path_factory):
    """(folder, Keras' probabilities, the pipeline): the demo copied alone, both models registered."""
    folder = tmp_path_factory.mktemp("copy")
    for name in ("register.py", "review_pyfunc.py"):
        shutil.copy(DEMO / name, folder / name)
    expected = make_keras(folder / "model")
    pipeline = make_sklearn(folder / "pipeline.joblib")
    keras = run(folder, "keras", "--model-dir", "model", "--alias", "champion")
    assert keras.returncode == 0, keras.stderr[-3000:]
    sklearn = run(folder, "sklearn", "--pipeline", "pipeline.joblib", "--labels", ",".join(LABELS),
                  "--alias", "challenger")  # fmt: skip
    assert sklearn.returncode == 0, sklearn.stderr[-3000:]
    return folder, expected, pipeline


@pytest.fixture(scope="session")
def servers(registered):
    """{alias: Serving}: both aliases served at once, stopped at the end whatever happens."""
    folder = registered[0]
    running = {alias: Serving(folder, alias) for alias in ("champion", "challenger")}
    try:
        for serving in running.values():
            serving.wait_ready()
        yield running
    finally:
        for serving in running.values():
            serving.stop()
