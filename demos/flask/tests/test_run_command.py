"""The README's commands for real, in a copy of this folder alone (nothing else of where it came from):
`python review_model.py` checks a model folder, `gunicorn -c gunicorn.conf.py` serves it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from small_model import DEMO, LABELS, NAME

FILES = ["review_api.py", "review_model.py", "review_monitoring.py", "gunicorn.conf.py", "openapi.json"]


@pytest.fixture
def copy(tmp_path) -> Path:
    """The demo's serving files, copied alone into an empty folder."""
    for name in FILES:
        shutil.copy(DEMO / name, tmp_path / name)
    return tmp_path


def run(folder: Path, *command: str, **env: str) -> subprocess.Popen:
    environment = {k: v for k, v in os.environ.items() if k != "MODEL_DIR"} | {"PORT": "0", **env}
    return subprocess.Popen(
        [sys.executable, "-m", *command],
        cwd=folder,
        env=environment,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def serve(folder: Path, **env: str) -> tuple[subprocess.Popen, str]:
    """Start the run command; return the process and its URL once /health/ready answers."""
    process = run(folder, "gunicorn", "-c", "gunicorn.conf.py", **env)
    for line in process.stdout:
        if match := re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", line):
            url = match.group(1)
            break
    else:
        pytest.fail(f"gunicorn exited with code {process.wait()} before listening")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/health/ready", timeout=5).close()
            return process, url
        except OSError:
            time.sleep(0.2)
    process.kill()
    pytest.fail("the server never became ready")


def predict(url: str, text: str) -> dict:
    request = urllib.request.Request(
        url + "/v1/predict", json.dumps({"text": text}).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)


def test_the_check_command_reads_model_dir_and_names_the_model(copy, model_dir):
    done = subprocess.run(
        [sys.executable, "review_model.py"],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "MODEL_DIR": str(model_dir)},
    )
    assert done.returncode == 0, done.stderr
    assert f"ok: model '{NAME}' version 2, labels {LABELS}" in done.stdout


def test_the_run_command_serves_the_model_in_its_model_folder(copy, model_dir, expected):
    """The default place: ./model beside the code. Answers equal Keras'; SIGTERM stops it cleanly."""
    shutil.copytree(model_dir, copy / "model")
    process, url = serve(copy, WEB_CONCURRENCY="1")
    try:
        for text, probabilities in expected.items():
            body = predict(url, text)
            assert body["model"] == {"name": NAME, "version": 2}
            assert list(body["probabilities"].values()) == pytest.approx(probabilities, abs=1e-5)
    finally:
        process.terminate()
    assert process.wait(timeout=60) == 0


def check_fails_before_any_worker(folder: Path, says: str, **env: str) -> None:
    process = run(folder, "gunicorn", "-c", "gunicorn.conf.py", **env)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 2, output
    assert says in output and "Traceback" not in output
    assert "Booting worker" not in output  # stopped before any worker started


def test_without_a_model_it_stops_at_once_and_points_to_the_readme(copy):
    check_fails_before_any_worker(copy, f"no usable model manifest in {copy / 'model'}")
    check_fails_before_any_worker(copy, "README.md, 'Your own model'")


def test_a_model_that_breaks_the_contract_stops_it_before_any_worker(copy, model_dir, tmp_path_factory):
    broken = tmp_path_factory.mktemp("broken")
    shutil.copytree(model_dir, broken, dirs_exist_ok=True)
    manifest = json.loads((broken / "manifest.json").read_text())
    (broken / "manifest.json").write_text(json.dumps({**manifest, "labels": ["bad", "good"]}))
    says = "3 probabilities per text for the manifest's 2 labels"
    check_fails_before_any_worker(copy, says, MODEL_DIR=str(broken))


def test_metrics_add_up_every_worker_s_requests(copy, model_dir, tmp_path):
    """Two workers, each counting in its own process: /metrics (whichever worker answers) shows the sum.
    One request is held half-sent on one worker, so the others must be answered by the second."""
    import socket

    from prometheus_client.parser import text_string_to_metric_families

    folder = tmp_path / "metrics"
    process, url = serve(
        copy, MODEL_DIR=str(model_dir), WEB_CONCURRENCY="2", PROMETHEUS_MULTIPROC_DIR=str(folder)
    )
    try:
        host, port = url.removeprefix("http://").split(":")
        body = json.dumps({"text": "held on one worker"}).encode()
        held = socket.create_connection((host, int(port)), timeout=60)
        held.sendall(
            f"POST /v1/predict HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body[:5]
        )
        labels = [predict(url, text)["label"] for text in ["great tea", "awful", "ok", "lovely"] * 3]
        held.sendall(body[5:])
        assert b" 200 " in held.recv(65536).split(b"\r\n")[0] + b" "
        held.close()
        workers = {path.name.rsplit("_", 1)[-1] for path in folder.glob("counter_*.db")}
        assert len(workers) == 2, f"counts from {workers}"
        with urllib.request.urlopen(url + "/metrics", timeout=30) as answer:
            families = list(text_string_to_metric_families(answer.read().decode()))
    finally:
        process.terminate()
    assert process.wait(timeout=60) == 0
    values = {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families for s in f.samples}
    assert values[("review_api_requests_total", (("route", "/v1/predict"), ("status", "200")))] == 13
    total = sum(values.get(("review_api_predictions_total", (("label", x),)), 0) for x in LABELS)
    assert total == len(labels) + 1  # and the held request, whose label is not read
    for label in LABELS:
        counted = values.get(("review_api_predictions_total", (("label", label),)), 0)
        assert labels.count(label) <= counted <= labels.count(label) + 1
