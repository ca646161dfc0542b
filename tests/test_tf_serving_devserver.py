"""The development server itself: it names itself, picks up new versions under load without failing a
request, survives hostile and generated bad input (never a 5xx, never a stack trace), and fails at
start-up the way TF Serving does."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import grpc
import pytest
import requests
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tensorflow_serving.apis import predict_pb2
from tensorflow_serving.apis.model_pb2 import ModelSpec
from tfserving_demo import rest_client
from tfserving_demo.explain import explain
from tfserving_demo.grpc_client import GrpcClient
from tfserving_demo.run import CONFIG, free_port, local_model_config, server_flags
from tfserving_devserver import SERVED_BY, SERVED_BY_HEADER

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
TEXTS = ["great coffee", "stale and bitter"]


@contextlib.contextmanager
def devserver(*flags: str, log: Path):
    """Run `python -m tfserving_devserver` on free ports until it answers; always stop it."""
    rest_port, grpc_port = free_port(), free_port()
    command = [
        sys.executable,
        "-m",
        "tfserving_devserver",
        f"--port={grpc_port}",
        f"--rest_api_port={rest_port}",
        *flags,
    ]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    url = f"http://127.0.0.1:{rest_port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            with contextlib.suppress(requests.ConnectionError):
                requests.get(f"{url}/v1/models/none", timeout=2)
                break
            time.sleep(0.3)
        assert process.poll() is None, log.read_text()
        yield url, f"127.0.0.1:{grpc_port}", process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def models(exports):
    from nowwhat.tf_serving.models import load, models_dir

    load()
    return models_dir()


@pytest.fixture(scope="module")
def server(models, tmp_path_factory):
    log = tmp_path_factory.mktemp("devserver") / "server.log"
    flags = server_flags(str(CONFIG), str(local_model_config(models)))
    with devserver(*flags, log=log) as (url, target, process):
        yield url, target, log, process


# --- It never claims to be TF Serving ---------------------------------------------------------------


def test_every_response_names_the_development_server(server):
    url, target, log, _ = server
    ok = requests.get(f"{url}/v1/models/reviews", timeout=10)
    error = requests.post(f"{url}/v1/models/reviews:predict", data=b"nope", timeout=10)
    for response in (ok, error):
        assert response.headers[SERVED_BY_HEADER] == SERVED_BY
        assert "not TensorFlow Serving" in response.headers[SERVED_BY_HEADER]
    assert rest_client.SERVED_BY_HEADER == SERVED_BY_HEADER  # the client's own copy: it imports no server
    client = GrpcClient(target, "reviews")
    _, call = client.predictions.Predict.with_call(client.predict_request(TEXTS), timeout=30)
    assert dict(call.initial_metadata())["x-served-by"] == SERVED_BY
    client.close()
    assert "It is NOT TensorFlow Serving" in log.read_text()


def test_batching_flag_is_reported_honestly(server):
    """The batching file is read and checked, and the log says requests are not batched together."""
    text = server[2].read_text()
    assert "batching parameters read: max_batch_size=64" in text
    assert "runs each request on its own" in text


def test_it_runs_without_keras_optional_imports(server):
    """`import tensorflow` would map pandas', scikit-learn's and SciPy's libraries too; the server blocks
    them (about 120 MB it never uses)."""
    import psutil

    mapped = {m.path for m in psutil.Process(server[3].pid).memory_maps()}
    assert any("/tensorflow/" in path for path in mapped)
    assert not [p for p in mapped if any(f"/{name}/" in p for name in ("pandas", "sklearn", "scipy"))]


def test_prometheus_metrics_at_the_configured_path(server):
    url = server[0]
    requests.post(f"{url}/v1/models/reviews:predict", json={"instances": TEXTS}, timeout=10)
    metrics = requests.get(f"{url}/monitoring/prometheus/metrics", timeout=10)
    assert metrics.status_code == 200
    assert 'tfserving_devserver_requests_total{api="predict",status="200"}' in metrics.text


# --- Hostile input -----------------------------------------------------------------------------------


def test_huge_body_is_refused_with_413(server):
    body = b'{"instances": ["' + b"a" * (65 * 1024 * 1024) + b'"]}'
    response = requests.post(f"{server[0]}/v1/models/reviews:predict", data=body, timeout=60)
    assert response.status_code == 413 and "error" in response.json()


def test_deeply_nested_json_is_400(server):
    body = "[" * 100_000 + "]" * 100_000
    response = requests.post(f"{server[0]}/v1/models/reviews:predict", data=body, timeout=30)
    assert response.status_code == 400 and "JSON Parse error" in response.json()["error"]


def test_long_review_is_served(server):
    text = "the coffee was good but the price was not " * 20_000  # 840 kB, cut at 600 tokens by the model
    response = requests.post(f"{server[0]}/v1/models/reviews:predict", json={"instances": [text]}, timeout=60)
    assert response.status_code == 200 and len(response.json()["predictions"]) == 1


def test_grpc_tensor_declaring_a_huge_shape_is_refused(server):
    request = predict_pb2.PredictRequest(model_spec=ModelSpec(name="reviews"))
    request.inputs["text"].dtype = tf.string.as_datatype_enum
    request.inputs["text"].tensor_shape.dim.add(size=10**12)
    request.inputs["text"].string_val.append(b"x")
    client = GrpcClient(server[1], "reviews")
    with pytest.raises(grpc.RpcError) as caught:
        client.predictions.Predict(request, timeout=30)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    client.close()


# --- Generated bad requests: at least 1,000, never a 5xx -----------------------------------------------

SENT = {"rest": 0, "grpc": 0}
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=16,
)
bodies = st.one_of(
    json_values.map(json.dumps),
    json_values.map(lambda v: json.dumps({"instances": v})),
    json_values.map(lambda v: json.dumps({"inputs": v})),
    st.tuples(json_values, json_values).map(
        lambda p: json.dumps({"signature_name": p[0], "instances": p[1]})
    ),
    st.tuples(json_values, json_values).map(lambda p: json.dumps({"instances": p[0], "inputs": p[1]})),
    st.binary(max_size=64),
)
paths = st.one_of(
    st.sampled_from(
        [
            "/v1/models/reviews:predict",
            "/v1/models/reviews/labels/canary:predict",
            "/v1/models/reviews/versions/1:predict",
            "/v1/models/reviews/metadata",
        ]
    ),
    st.text(alphabet="abc/:%019_-.", max_size=40).map(lambda p: "/v1/" + p),
)


def _check_rest(url: str, method: str, path: str, body: bytes | str) -> None:
    response = requests.request(method, url + path, data=body, timeout=30)
    SENT["rest"] += 1
    assert response.status_code < 500, (method, path, body, response.text)
    if response.status_code != 200:
        error = response.json()["error"]
        assert isinstance(error, str) and "Traceback" not in error


@settings(
    max_examples=800,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies)
def test_generated_predict_bodies_never_cause_a_server_error(server, body):
    _check_rest(server[0], "POST", "/v1/models/reviews:predict", body)


@settings(
    max_examples=250,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]), path=paths, body=bodies)
def test_generated_urls_and_methods_never_cause_a_server_error(server, method, path, body):
    _check_rest(server[0], method, path, body)


tensor_protos = st.builds(
    lambda dtype, dims, strings, floats, content: tf.make_tensor_proto(0).__class__(
        dtype=dtype,
        tensor_shape={"dim": [{"size": d} for d in dims]},
        string_val=strings,
        float_val=floats,
        tensor_content=content,
    ),
    st.sampled_from([0, 1, 3, 7, 9, 10, 23, 99]),  # invalid, float, int32, string, int64, bool, uint32, bogus
    st.lists(st.integers(-2, 2**40), max_size=3),
    st.lists(st.binary(max_size=8), max_size=3),
    st.lists(st.floats(width=32), max_size=3),
    st.binary(max_size=16),
)


@settings(
    max_examples=200,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    alias=st.sampled_from(["text", "txt", ""]),
    proto=tensor_protos,
    label=st.sampled_from(["", "stable", "nope"]),
)
def test_generated_grpc_tensors_never_cause_a_server_error(server, alias, proto, label):
    request = predict_pb2.PredictRequest(model_spec=ModelSpec(name="reviews", version_label=label))
    request.inputs[alias].CopyFrom(proto)
    channel = grpc.insecure_channel(server[1])
    try:
        from tensorflow_serving.apis import prediction_service_pb2_grpc

        prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(request, timeout=30)
    except grpc.RpcError as exc:
        assert exc.code() not in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN), exc.details()
    finally:
        channel.close()
        SENT["grpc"] += 1


def test_server_is_healthy_after_the_generated_requests(server):
    assert SENT["rest"] >= 1000, SENT  # the generated tests above ran first, in file order
    assert SENT["grpc"] >= 100, SENT
    response = requests.post(f"{server[0]}/v1/models/reviews:predict", json={"instances": TEXTS}, timeout=10)
    assert response.status_code == 200 and len(response.json()["predictions"]) == 2


# --- Versions come and go without a restart --------------------------------------------------------


def test_new_version_is_served_under_load_with_zero_failed_requests(models, tmp_path):
    """Default policy (latest): version 3 appears while clients hammer the server; it is loaded, then
    version 1 is unloaded, and no request fails in between."""
    base = tmp_path / "reviews"
    shutil.copytree(models / "reviews" / "1", base / "1")
    flags = ["--model_name=reviews", f"--model_base_path={base}", "--file_system_poll_wait_seconds=1"]
    with devserver(*flags, log=tmp_path / "server.log") as (url, target, _):
        failures, counts, stop = [], {"rest": 0, "grpc": 0}, threading.Event()

        def hammer_rest():
            session = requests.Session()
            while not stop.is_set():
                r = session.post(f"{url}/v1/models/reviews:predict", json={"instances": TEXTS}, timeout=30)
                counts["rest"] += 1
                if r.status_code != 200:
                    failures.append(r.text)

        def hammer_grpc():
            client = GrpcClient(target, "reviews")
            while not stop.is_set():
                try:
                    client.predict(TEXTS, label=None)  # this config has no labels
                    counts["grpc"] += 1
                except Exception as exc:
                    failures.append(repr(exc))
            client.close()

        threads = [threading.Thread(target=f) for f in (hammer_rest, hammer_rest, hammer_grpc)]
        for thread in threads:
            thread.start()
        try:
            time.sleep(1)
            shutil.copytree(models / "reviews" / "2", tmp_path / "incoming")
            (tmp_path / "incoming").rename(base / "3")  # appears complete, as an export should
            deadline = time.monotonic() + 60
            states = {}
            while time.monotonic() < deadline:
                states = {
                    s["version"]: s["state"]
                    for s in requests.get(f"{url}/v1/models/reviews", timeout=10).json()[
                        "model_version_status"
                    ]
                }
                if states == {"3": "AVAILABLE", "1": "END"}:
                    break
                time.sleep(0.2)
            time.sleep(1)  # keep the load on after the switch
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
        assert states == {"3": "AVAILABLE", "1": "END"}
        assert failures == []
        assert counts["rest"] > 20 and counts["grpc"] > 10, counts
        client = GrpcClient(target, "reviews")
        response = client.predictions.Predict(client.predict_request(TEXTS, label=None), timeout=30)
        assert response.model_spec.version.value == 3
        client.close()


def test_broken_version_folder_is_reported_and_others_keep_serving(models, tmp_path):
    base = tmp_path / "reviews"
    shutil.copytree(models / "reviews" / "1", base / "1")
    (base / "2").mkdir()  # a version folder without saved_model.pb
    config = tmp_path / "models.config"
    config.write_text(
        f'model_config_list {{ config {{ name: "reviews" base_path: "{base}" '
        'model_platform: "tensorflow" model_version_policy { all {} } } }'
    )
    with devserver(f"--model_config_file={config}", log=tmp_path / "server.log") as (url, _, _):
        states = requests.get(f"{url}/v1/models/reviews", timeout=10).json()["model_version_status"]
        by_version = {s["version"]: s for s in states}
        assert by_version["1"]["state"] == "AVAILABLE"
        assert by_version["2"]["state"] == "END" and by_version["2"]["status"]["error_code"] != "OK"
        response = requests.post(
            f"{url}/v1/models/reviews/versions/1:predict", json={"instances": TEXTS}, timeout=10
        )
        assert response.status_code == 200


def test_base_path_without_version_folder_is_logged_like_tf_serving(tmp_path):
    """The classic mistake: the SavedModel directly in the base path. TF Serving logs this line."""
    (tmp_path / "reviews").mkdir()
    log = tmp_path / "server.log"
    with devserver("--model_name=reviews", f"--model_base_path={tmp_path / 'reviews'}", log=log) as (
        url,
        _,
        _,
    ):
        response = requests.get(f"{url}/v1/models/reviews", timeout=10)
        assert response.status_code == 404
    line = next(ln for ln in log.read_text().splitlines() if "No versions of servable" in ln)
    assert "Did you forget to name your leaf directory as a number" in line
    assert "version folder" in explain(line)


def test_labels_for_unloaded_versions_fail_at_start_like_tf_serving(models, tmp_path):
    """serving_config.md: labels may only name loaded versions unless
    --allow_version_labels_for_unavailable_models is set; without it the server refuses to start."""
    command = [
        sys.executable,
        "-m",
        "tfserving_devserver",
        f"--port={free_port()}",
        f"--rest_api_port={free_port()}",
        f"--model_config_file={local_model_config(models)}",
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=120, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    )
    assert result.returncode != 0
    refused = r"Request to assign label to version \d of model reviews, which is not currently available"
    assert re.search(refused, result.stderr)
    assert "--allow_version_labels_for_unavailable_models=true" in explain(result.stderr)


def test_relative_base_path_is_refused_like_tf_serving(tmp_path):
    command = [
        sys.executable,
        "-m",
        "tfserving_devserver",
        "--model_name=reviews",
        "--model_base_path=models",
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=120, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    )
    assert result.returncode != 0 and "to have an absolute path" in result.stderr


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in state  # a zombie has exited; only its parent has not collected it


def test_server_exits_when_its_parent_is_killed(models, tmp_path):
    """A notebook kernel or test runner killed with SIGKILL cannot stop its server: the server notices."""
    starter = (
        "import subprocess, sys, time\n"
        f"p = subprocess.Popen([sys.executable, '-m', 'tfserving_devserver', '--port=0',"
        f" '--rest_api_port={free_port()}', '--model_name=reviews',"
        f" '--model_base_path={models / 'reviews'}'], start_new_session=True,"
        " stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "print(p.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", starter], stdout=subprocess.PIPE, text=True)
    server_pid = int(parent.stdout.readline())
    try:
        time.sleep(2)
        assert _alive(server_pid)
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 60
        while _alive(server_pid) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not _alive(server_pid)
    finally:
        if _alive(server_pid):
            os.kill(server_pid, 9)


def test_moving_a_label_in_the_config_needs_no_restart(models, tmp_path):
    """serving_config.md: with --model_config_file_poll_wait_seconds the server re-reads the config;
    promoting the canary is moving `stable` to version 2."""
    config = tmp_path / "models.config"
    config.write_text(local_model_config(models).read_text())
    flags = [
        f"--model_config_file={config}",
        "--model_config_file_poll_wait_seconds=1",
        "--allow_version_labels_for_unavailable_models=true",
    ]
    with devserver(*flags, log=tmp_path / "server.log") as (url, _, _):

        def stable_version():
            return requests.get(f"{url}/v1/models/reviews/labels/stable", timeout=10).json()[
                "model_version_status"
            ][0]["version"]

        assert stable_version() == "1"  # the ports open only after both versions have loaded
        promoted = re.sub(r'(key: "stable"\s+value: )1', r"\g<1>2", config.read_text())
        assert promoted != config.read_text()
        config.write_text(promoted)
        deadline = time.monotonic() + 60
        while stable_version() != "2":
            assert time.monotonic() < deadline, "the moved label was not picked up"
            time.sleep(0.3)
        assert "model config reloaded" in (tmp_path / "server.log").read_text()
