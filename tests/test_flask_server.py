"""The run command for real: gunicorn with two workers on a free port — contract, parity with Keras,
generated bad input from the OpenAPI document, and a short load test."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import numpy as np
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from nowwhat.data import load_splits
from nowwhat.flask_api.bench import wrk, wrk_script
from nowwhat.flask_api.server import DEMO_DIR, Server

pytestmark = pytest.mark.slow

SCHEMA = schemathesis.openapi.from_path(DEMO_DIR / "openapi.json")
#: Requests generated per (operation, mode): 2 POST operations × valid and invalid bodies × 260 = 1,040,
#: plus the GET operations (without parameters they have only one valid request each, and no invalid one).
GENERATED = 260


@pytest.fixture(scope="module")
def server(exports):
    with Server("production") as running:
        running.started_workers = running.worker_pids()
        yield running


def test_serves_on_loopback_with_two_workers(server):
    assert urlsplit(server.url).hostname == "127.0.0.1"
    assert len(server.started_workers) == 2
    assert "Booting worker" in server.log() and "Traceback" not in server.log()


def test_contract_over_http(server):
    one = requests.post(f"{server.url}/v1/predict", json={"text": "Lovely, fresh tea."}, timeout=10)
    assert one.status_code == 200 and one.headers["Content-Type"] == "application/json"
    assert one.json()["label"] in ("great", "other")
    batch = requests.post(f"{server.url}/v1/predict/batch", json={"texts": ["good", "bad"]}, timeout=10)
    assert len(batch.json()["predictions"]) == 2
    assert requests.get(f"{server.url}/v1/metadata", timeout=10).json()["model"]["version"] >= 1
    assert requests.get(f"{server.url}/openapi.json", timeout=10).json() == SCHEMA.raw_schema
    wrong = requests.post(f"{server.url}/v1/predict", data="text=hi", timeout=10)
    assert wrong.status_code == 415 and wrong.headers["Content-Type"] == "application/problem+json"


def test_probabilities_equal_keras_on_the_test_reviews(server, trained):
    from nowwhat.training import load_trained, predict

    texts = load_splits().texts("test")
    served = []
    for start in range(0, len(texts), 64):
        response = requests.post(f"{server.url}/v1/predict/batch", json={"texts": texts[start : start + 64]})
        assert response.status_code == 200, response.text
        served += [
            [p["probabilities"]["great"], p["probabilities"]["other"]] for p in response.json()["predictions"]
        ]
    reference = predict(load_trained()[0], texts)
    assert len(served) == len(texts) == 1000
    assert np.abs(np.array(served) - reference).max() <= 1e-5
    assert (np.array(served).argmax(1) == reference.argmax(1)).all()


def test_a_chunked_body_over_the_limit_is_a_413(server):
    """Without a Content-Length the limit must still hold while the body streams in."""

    def chunks():
        yield b'{"text": "'
        for _ in range(20):
            yield b"a" * 65_536
        yield b'"}'

    response = requests.post(
        f"{server.url}/v1/predict", data=chunks(), headers={"Content-Type": "application/json"}, timeout=30
    )
    assert response.status_code == 413 and response.json()["status"] == 413


@pytest.mark.parametrize(
    "raw",
    [
        b"GET /" + b"a" * 10_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n",
    ],
    ids=["long-request-line", "negative-length", "tls-hello"],
)
def test_malformed_http_gets_a_4xx_and_the_workers_survive(server, raw):
    host = urlsplit(server.url)
    connection = http.client.HTTPConnection(host.hostname, host.port, timeout=10)
    connection.connect()
    connection.sock.sendall(raw)
    reply = connection.sock.recv(4096)
    connection.close()
    assert reply.startswith(b"HTTP/1.1 4"), reply[:200]
    assert requests.get(f"{server.url}/health/ready", timeout=10).status_code == 200


def _cases():
    """(path, method, mode): valid requests for every operation, invalid ones where there is a body."""
    return [
        pytest.param(path, method, mode, id=f"{method.upper()} {path} {mode.value}")
        for path, operations in SCHEMA.raw_schema["paths"].items()
        for method, spec in operations.items()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        if mode is GenerationMode.POSITIVE or "requestBody" in spec
    ]


@pytest.mark.parametrize(("path", "method", "mode"), _cases())
def test_generated_requests_never_get_a_5xx(server, path, method, mode):
    """Schemathesis generates requests from the committed OpenAPI document, valid ones and invalid ones;
    every answer must be JSON with a documented status and schema, never a 5xx."""
    operation = SCHEMA[path][method.upper()]
    statuses = []

    @settings(
        max_examples=GENERATED,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case):
        response = case.call(base_url=server.url, timeout=30)
        statuses.append(response.status_code)
        assert response.status_code < 500, response.content[:300]
        if path == "/metrics":  # Prometheus' text format, as openapi.json documents it
            assert response.headers["content-type"][0].startswith("text/plain")
        else:
            assert response.headers["content-type"][0] in ("application/json", "application/problem+json")
            json.loads(response.content)
        case.validate_response(response)

    check()
    if method == "post":
        assert len(statuses) >= GENERATED
        expected = range(200, 300) if mode is GenerationMode.POSITIVE else range(400, 500)
        assert all(status in expected for status in statuses), sorted(set(statuses))


def test_still_healthy_after_the_generated_requests_with_no_worker_lost(server):
    assert requests.get(f"{server.url}/health/ready", timeout=10).status_code == 200
    assert server.worker_pids() == server.started_workers
    assert "Traceback" not in server.log() and "WORKER TIMEOUT" not in server.log()


def test_short_load_test_has_no_errors_and_loses_no_worker(server, tmp_path):
    script = wrk_script(load_splits().texts("test")[:50], tmp_path)
    result = wrk(f"{server.url}/v1/predict", script, concurrency=8, seconds=3)
    assert result["requests"] > 0
    assert result["errors"] == 0, result["error_kinds"]
    assert server.worker_pids() == server.started_workers
    assert requests.get(f"{server.url}/health/ready", timeout=10).status_code == 200
