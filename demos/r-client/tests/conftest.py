"""The R client against a STAND-IN for the prediction API: a small HTTP server, in this file, that speaks
the API's batch endpoint (POST /v1/predict/batch, RFC 9457 errors) with made-up probabilities. It checks
what the client sends and how it reads answers and errors; the workshop repository's suite runs the client
against the real API (demos/flask) and compares its answers with Keras'."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[1]


def made_up(text: str) -> dict:
    """The stand-in's answer for one review: not a model, a rule the tests can predict."""
    great = 0.875 if "great" in text.lower() else 0.125
    label = "great" if great > 0.5 else "other"
    return {"label": label, "probabilities": {"great": great, "other": 1 - great}}


class StandIn(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.received.append(body)
        texts = body.get("texts", [])
        if self.server.fail_with:
            status, answer = self.server.fail_with
        elif empty := [i for i, text in enumerate(texts) if not text.strip()]:
            status, detail = 422, f"texts[{empty[0]}] is empty"
            answer = {"title": "Unprocessable Content", "status": 422, "detail": detail}
        else:
            status, answer = 200, {"predictions": [made_up(text) for text in texts]}
        data = answer.encode() if isinstance(answer, str) else json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if status == 200 else "application/problem+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture
def api():
    """The stand-in on a free loopback port: `.url`, `.received` (request bodies), `.fail_with`."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    server.received, server.fail_with = [], None
    server.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def rscript(*args: str, cwd: Path = DEMO, **env: str) -> subprocess.CompletedProcess:
    """`Rscript classify.R ARGS`, as a user types it (R is not a pip package: see README.md, Set-up)."""
    found = shutil.which("Rscript")
    assert found, "Rscript is not installed: see README.md, 'Set-up'"
    environment = {k: v for k, v in os.environ.items() if k != "REVIEW_API_URL"} | env
    return subprocess.run(
        [found, "classify.R", *args], cwd=cwd, env=environment, capture_output=True, timeout=120
    )
