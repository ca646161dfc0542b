"""The README's run command, `mlserver start .`, in a copy of this folder alone, serving the small model
of small_model.py placed where the README says (model/ beside the settings), on free loopback ports."""

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
from small_model import make_bundle, make_pipeline

DEMO = Path(__file__).resolve().parents[1]
COPIED = ("review_runtime.py", "pipeline_runtime.py", "settings.json", "models")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(url: str, body=None, raw: bytes | None = None) -> tuple[int, dict]:
    """(status, JSON answer) of a GET, or of a POST of `body` as JSON (or `raw` bytes)."""
    data = raw if raw is not None else None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


class Running:
    def __init__(self, folder: Path):
        self.ports = {"HTTP": free_port(), "GRPC": free_port(), "METRICS": free_port()}
        self.url = f"http://127.0.0.1:{self.ports['HTTP']}"
        self.grpc = f"127.0.0.1:{self.ports['GRPC']}"
        self.metrics = f"http://127.0.0.1:{self.ports['METRICS']}/metrics"
        env = {**os.environ, **{f"MLSERVER_{k}_PORT": str(v) for k, v in self.ports.items()}}
        self.log = open(folder / "mlserver.log", "w")  # noqa: SIM115 (closed in stop)
        mlserver = str(Path(sys.executable).with_name("mlserver"))
        self.process = subprocess.Popen(
            [mlserver, "start", "."], cwd=folder, env=env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        self.folder = folder

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (self.folder / "mlserver.log").read_text()[-3000:]
            try:
                if call(self.url + "/v2/health/ready")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise AssertionError("MLServer was not ready: " + (self.folder / "mlserver.log").read_text()[-3000:])

    def stop(self) -> int:
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            return self.process.wait(30)
        finally:
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGKILL)
            self.log.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    copy = tmp_path_factory.mktemp("copy")
    for name in COPIED:
        (shutil.copytree if (DEMO / name).is_dir() else shutil.copy)(DEMO / name, copy / name)
    make_bundle(copy / "model")
    running = Running(copy)
    running.pipeline = make_pipeline(copy / "pipeline.joblib")
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()
