"""The README's commands for real, in a copy of this folder alone: `./run.sh` serves a model that is not
the workshop's (another name, three labels, two versions) by configuration alone, the clients call it by
its name, labels route to the right version, and a missing or misnamed model stops with one clear line."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
import requests
from small_model import LABELS, NAME, TEXTS
from tfserving_demo.explain import TFServingError
from tfserving_demo.grpc_client import GrpcClient
from tfserving_demo.rest_client import RestClient

from conftest import Running, run_command

#: float32 through the same TensorFlow kernels: the answers are Keras' own, to rounding.
TOLERANCE = 1e-5


@pytest.fixture
def rest(served):
    client = RestClient(served.rest_url, NAME)
    yield client
    client.close()


@pytest.fixture
def grpc_client(served):
    client = GrpcClient(served.grpc_target, NAME)
    yield client
    client.close()


def test_the_banner_says_it_is_the_development_server_and_names_the_model(served):
    printed = "".join(served.lines)
    assert "the DEVELOPMENT server (a Python stand-in, NOT TensorFlow Serving)" in printed
    assert f"/v1/models/{NAME}`" in served.lines[-1]


def test_both_versions_are_available(rest, grpc_client):
    states = sorted((s["version"], s["state"]) for s in rest.status())
    assert states == [("1", "AVAILABLE"), ("2", "AVAILABLE")]
    assert sorted(grpc_client.status()) == [(1, "AVAILABLE"), (2, "AVAILABLE")]


@pytest.mark.parametrize(("label", "version"), [("stable", 1), ("canary", 2)])
def test_rest_answers_are_keras_answers_for_the_version_the_label_names(rest, small_model, label, version):
    probabilities = np.array(rest.probabilities(TEXTS, label=label))
    assert probabilities.shape == (len(TEXTS), len(LABELS))
    np.testing.assert_allclose(probabilities, small_model[1][version], atol=TOLERANCE)


@pytest.mark.parametrize("version", [1, 2])
def test_grpc_answers_are_keras_answers(grpc_client, small_model, version):
    answer = grpc_client.predict(TEXTS, version=version)
    np.testing.assert_allclose(answer["probabilities"], small_model[1][version], atol=TOLERANCE)


def test_the_versions_differ_so_routing_is_proven(small_model):
    assert np.abs(np.array(small_model[1][1]) - np.array(small_model[1][2])).max() > 1e-3


def test_metadata_names_the_model_and_its_signature(rest, grpc_client):
    metadata = rest.metadata()
    assert metadata["model_spec"] == {"name": NAME, "signature_name": "", "version": "1"}
    signature = metadata["metadata"]["signature_def"]["signature_def"]["serving_default"]
    assert signature["inputs"]["text"]["dtype"] == "DT_STRING"
    assert grpc_client.metadata(label="canary")["version"] == 2


@pytest.mark.parametrize(
    "body",
    [{"instances": 5}, {"inputs": {"txt": ["x"]}}, {"instances": [{"text": 1.5}]}, {}, "not json"],
    ids=["not a list", "wrong input name", "wrong type", "empty", "not json"],
)
def test_bad_requests_get_a_4xx_and_one_message(served, body):
    url = f"{served.rest_url}/v1/models/{NAME}/labels/stable:predict"
    answer = requests.post(url, data=body, timeout=30) if isinstance(body, str) else requests.post(
        url, json=body, timeout=30
    )
    assert 400 <= answer.status_code < 500
    message = answer.json()["error"]
    assert message and "Traceback" not in message


@pytest.mark.parametrize("asked", [{"label": "stable"}, {"version": 1}, {"label": None}])
def test_a_wrong_model_name_is_explained(served, asked):
    with pytest.raises(TFServingError) as caught:
        RestClient(served.rest_url, "reviews").probabilities(["x"], **asked)
    assert "model name" in caught.value.explain()


def test_the_default_model_folder_is_models_beside_the_run_command(copy, small_model):
    """No MODEL_DIR: ./models here. SIGTERM stops the server and the run command cleanly."""
    shutil.copytree(small_model[0], copy / "models")
    server = Running(run_command(copy))
    try:
        answer = RestClient(server.rest_url, NAME).probabilities(TEXTS[:1], version=2)
        np.testing.assert_allclose(answer, small_model[1][2][:1], atol=TOLERANCE)
    finally:
        assert server.stop() == 0
    with pytest.raises(requests.ConnectionError):
        requests.get(server.rest_url, timeout=5)


def failed(folder, *args, **env) -> str:
    """Run the run command expecting it to stop before any server starts; its output."""
    process = run_command(folder, *args, **env)
    try:
        output, _ = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("the run command started a server instead of stopping")
    assert process.returncode == 1, output
    assert "Traceback" not in output and "MODEL SERVER" not in output, output
    return output


def test_no_models_stop_with_one_line_naming_the_readme(copy):
    output = failed(copy)
    assert output.startswith(f"error: config/models.config serves model '{NAME}' version(s) 1, 2, but ")
    assert "models/sentiment has version folders: none" in output and "'Your own model'" in output


def test_a_model_named_otherwise_in_the_config_is_caught(copy, small_model):
    config = copy / "config" / "models.config"
    config.write_text(config.read_text().replace(f'"{NAME}"', '"reviews"'))
    output = failed(copy, "--model-dir", str(small_model[0]))
    assert "serves model 'reviews'" in output and "has version folders: none" in output


def test_a_missing_version_is_caught(copy, small_model):
    shutil.copytree(small_model[0] / NAME / "1", copy / "models" / NAME / "1")
    output = failed(copy)
    assert "version(s) 1, 2" in output and "has version folders: 1 " in output
