"""Start the Flask chapter's servers as child processes, the way a learner would, and always stop them.

Used by notebook 02, the tests and the benchmark. Each server binds port 0 on 127.0.0.1 (the kernel picks
a free port; we read it from the server's log), runs in its own process group, is asked to stop with
SIGTERM (gunicorn then finishes in-flight requests) and is killed if it does not. It also dies with the
process that started it (Linux parent-death signal), so none outlives a notebook or a test run.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from nowwhat import processes
from nowwhat.errors import NowWhatError
from nowwhat.paths import REPO_ROOT, export_dir, model_dir

DEMO_DIR = REPO_ROOT / "demos" / "flask"
#: The demo's run command, as a learner types it in demos/flask (README, Dockerfile CMD; a test keeps them
#: equal). `Server("production")` runs exactly this, as `python -m gunicorn …` with this Python.
RUN_COMMAND = ("gunicorn", "-c", "gunicorn.conf.py")
_LISTENING = {
    "production": re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)"),
    "naive": re.compile(r"Running on http://127\.0\.0\.1:(\d+)"),
}


class Server:
    """`with Server("production") as s: requests.post(s.url + "/v1/predict", ...)`.

    kind: "production" (gunicorn + review_api, the run command of demos/flask) or "naive" (the 2019 app on
    Flask's development server). `env` adds environment variables (WEB_CONCURRENCY, MODEL_DIR, ...); `cwd`
    runs a copy of the demo from elsewhere (the tests lay out the Docker image's files that way).
    """

    def __init__(
        self, kind: str = "production", env: dict | None = None, startup_timeout: float = 120, cwd=DEMO_DIR
    ):
        if kind not in _LISTENING:
            raise NowWhatError(f"unknown server kind {kind!r}: choose one of {sorted(_LISTENING)}")
        self.kind, self.startup_timeout, self.cwd = kind, startup_timeout, Path(cwd)
        self.env = {
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": "0",
            "MODEL_DIR": str(export_dir()),
            "MODEL": str(model_dir() / "classifier.keras"),
            "TF_CPP_MIN_LOG_LEVEL": "2",
            **(env or {}),
        }
        if kind == "production":  # the naive 2019 app loads the Keras model: it needs Keras whole
            self.env = processes.serving_only(self.env)
        self.process: subprocess.Popen | None = None
        self.url = ""
        handle, path = tempfile.mkstemp(prefix=f"flask-{kind}-", suffix=".log")
        os.close(handle)  # the server writes it through a file of its own
        self.log_path = Path(path)

    def command(self) -> list[str]:
        if self.kind == "production":
            return [sys.executable, "-m", *RUN_COMMAND]
        return [sys.executable, "naive_2019_app.py"]

    def start(self) -> Server:
        with self.log_path.open("wb") as log:
            self.process = processes.start(self.command(), self.cwd, self.env, log)
        atexit.register(self.stop)
        try:
            self.url = f"http://127.0.0.1:{self._wait_for_port()}"
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_for_port(self) -> int:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if match := _LISTENING[self.kind].search(self.log()):
                return int(match.group(1))
            self._check_alive()
            time.sleep(0.1)
        raise NowWhatError(f"the {self.kind} server did not start listening: see {self.log_path}")

    def _wait_until_ready(self) -> None:
        """Production: /health/ready answers 200. Naive (no health endpoint): a prediction answers 200."""
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                if self.kind == "production":
                    urllib.request.urlopen(self.url + "/health/ready", timeout=5).close()
                else:
                    probe = urllib.request.Request(
                        self.url + "/predict",
                        data=b'{"text": "ready?"}',
                        headers={"Content-Type": "application/json"},
                    )
                    urllib.request.urlopen(probe, timeout=30).close()
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        raise NowWhatError(f"the {self.kind} server never became ready: see {self.log_path}")

    def _check_alive(self) -> None:
        if self.process.poll() is not None:
            raise NowWhatError(
                f"the {self.kind} server exited with code {self.process.returncode}: "
                f"{self.log().strip().splitlines()[-1] if self.log().strip() else 'no output'}"
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def pids(self) -> list[int]:
        """The server's processes: gunicorn's master and its workers, or the one naive process."""
        import psutil

        try:
            parent = psutil.Process(self.process.pid)
            return [parent.pid] + [child.pid for child in parent.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def worker_pids(self) -> list[int]:
        return self.pids()[1:] if self.kind == "production" else self.pids()

    def memory_mib(self) -> dict[int, float]:
        """Resident memory of each server process, in MiB."""
        import psutil

        memory = {}
        for pid in self.pids():
            with contextlib.suppress(psutil.NoSuchProcess):
                memory[pid] = round(psutil.Process(pid).memory_info().rss / 2**20, 1)
        return memory

    def stop(self, timeout: float = 35) -> int | None:
        """SIGTERM (graceful); SIGKILL to the whole process group if that takes too long. The exit code."""
        if self.process is None:
            return None
        atexit.unregister(self.stop)
        return processes.stop(self.process, timeout)  # gunicorn's master stops its workers itself

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def slow_request(url: str, text: str) -> tuple[socket.socket, bytes]:
    """A POST to /v1/predict whose body is only partly sent (→ the socket and the rest): the worker that
    took it stays inside the request until `finish` sends the rest. How the tests hold a request in flight
    while they stop a server."""
    host, port = url.removeprefix("http://").split(":")
    body = json.dumps({"text": text}).encode()
    sock = socket.create_connection((host, int(port)), timeout=60)
    sock.sendall(
        f"POST /v1/predict HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body[:10]
    )
    return sock, body[10:]


def finish(sock: socket.socket, rest: bytes) -> bytes:
    """Send the rest of a `slow_request` and read the whole reply."""
    sock.sendall(rest)
    reply = b""
    while chunk := sock.recv(65536):
        reply += chunk
    sock.close()
    return reply
