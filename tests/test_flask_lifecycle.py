"""Shutdown of the demo's server with the workshop's model: in-flight work finishes on SIGTERM; and the
naive 2019 app still runs (the benchmark needs it) and still shows its problems. (Start-up without a
model, or with a broken one: the demo's own tests, demos/flask/tests/test_run_command.py.)"""

from __future__ import annotations

import json
import signal
import time

import pytest
import requests

from nowwhat.flask_api.server import DEMO_DIR, Server, finish, slow_request

pytestmark = pytest.mark.slow


def test_sigterm_lets_the_request_in_flight_finish(exports):
    """A slow client is half-way through sending its body when the server is told to stop."""
    with Server("production", env={"WEB_CONCURRENCY": "1"}) as server:
        request = slow_request(server.url, "A slow client, but still a customer: answer me.")
        time.sleep(0.5)  # the worker is now inside the request, waiting for the rest of the body
        server.process.send_signal(signal.SIGTERM)
        time.sleep(1.0)
        assert server.process.poll() is None  # still finishing
        reply = finish(*request)
        assert reply.startswith(b"HTTP/1.1 200 OK"), reply[:200]
        assert json.loads(reply.split(b"\r\n\r\n", 1)[1])["label"] in ("great", "other")
        assert server.process.wait(timeout=30) == 0
        assert "Handling signal: term" in server.log() and "Shutting down: Master" in server.log()


def test_the_naive_2019_app_runs_and_shows_why_it_is_naive(trained):
    assert "DO NOT DEPLOY" in (DEMO_DIR / "naive_2019_app.py").read_text().splitlines()[1]
    with Server("naive") as server:
        answer = requests.post(f"{server.url}/predict", json={"text": "great coffee"}, timeout=60)
        assert answer.status_code == 200
        probabilities = answer.json()["prediction"][0]  # a bare list: which number is which label?
        assert sum(probabilities) == pytest.approx(1, abs=1e-5)
        broken = requests.post(f"{server.url}/predict", json={"txt": "typo"}, timeout=60)
        assert broken.status_code == 500 and broken.headers["Content-Type"].startswith("text/html")
        assert "WARNING: This is a development server" in server.log()


OPTIONAL = (
    "import sys, tensorflow\n"
    "print(sorted(m for m in ('pandas', 'matplotlib', 'sklearn', 'scipy') if sys.modules.get(m)))"
)


def test_tensorflow_only_servers_start_without_keras_optional_imports():
    """`import tensorflow` pulls Keras' optional imports in the workshop's environment; a server started
    with `serving_only` does not (the API's workers, the benchmark's ceiling run)."""
    import os
    import subprocess
    import sys

    from nowwhat import processes

    def loaded(env: dict) -> str:
        done = subprocess.run([sys.executable, "-c", OPTIONAL], env=env, capture_output=True, text=True)
        return done.stdout.strip()

    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    assert loaded(env) == "['matplotlib', 'pandas', 'scipy', 'sklearn']"  # what the saving is about
    assert loaded(processes.serving_only(env)) == "[]"
    assert Server("production").env["PYTHONPATH"].startswith(str(processes.SERVING_ONLY))
    assert str(processes.SERVING_ONLY) not in Server("naive").env.get("PYTHONPATH", "")  # it loads Keras
