"""The TF Serving demo's files: Kubernetes manifests and the KServe InferenceService (validated offline
against the Kubernetes schemas shipped by the kubernetes-validate package), compose.yaml (against the
compose-spec schema vendored by check-jsonschema), the server config files, the run command's choice
of server, the error helper, and the model repository."""

from __future__ import annotations

import copy
import filecmp
import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import SchemaNotFoundError, schema_contents
from referencing import Registry, Resource
from tfserving_demo import run
from tfserving_demo.explain import explain
from tfserving_devserver import config as devconfig
from tfserving_devserver.errors import ServingError

DEMO = run.DEMO
K8S_VERSION = "1.37.0"
SCHEMAS = f"kubernetes-json-schema/v{K8S_VERSION}-local-strict"


def documents(name: str) -> list[dict]:
    return [d for d in yaml.safe_load_all((DEMO / "k8s" / name).read_text()) if d]


@pytest.fixture
def offline(monkeypatch):
    """Any attempt to open a network connection fails the test: validation must use local schemas."""

    def refuse(*args, **kwargs):
        raise AssertionError("network access during offline validation")

    monkeypatch.setattr(socket.socket, "connect", refuse)


# --- Kubernetes -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["pvc.yaml", "deployment.yaml", "service.yaml", "hpa.yaml"])
def test_manifest_validates_strictly_against_kubernetes_schemas(name, offline):
    for doc in documents(name):
        assert kubernetes_validate.validate(doc, K8S_VERSION, strict=True) == "1.37"


@pytest.mark.parametrize(
    "break_it",
    [
        lambda d: d["spec"]["template"]["spec"]["containers"][0].update(ports=[{"containerPort": "8500"}]),
        lambda d: d["spec"]["template"]["spec"]["containers"][0].update(readinessprobe={}),  # typo'd key
        lambda d: d["spec"].pop("selector"),
    ],
)
def test_validator_rejects_a_broken_deployment(break_it, offline):
    doc = copy.deepcopy(documents("deployment.yaml")[0])
    break_it(doc)
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def validate_part(value: dict, schema_file: str) -> None:
    """One Kubernetes type (container, resources, metadata) against kubernetes-validate's own schema."""
    definitions = schema_contents(f"{SCHEMAS}/_definitions.json", K8S_VERSION)
    schema = schema_contents(f"{SCHEMAS}/{schema_file}", K8S_VERSION)
    registry = Resource.from_contents(definitions) @ (Resource.from_contents(schema) @ Registry())
    jsonschema.Draft202012Validator(schema, registry=registry).validate(value)


def test_kserve_inferenceservice(offline):
    """No pip package here ships KServe's CRD schema (kubernetes-validate has core Kubernetes only, and
    the kserve SDK pins pandas<3 and protobuf<7, which this environment cannot take). So: check that
    kubernetes-validate indeed cannot judge it, validate every part that is a Kubernetes type against
    the Kubernetes schemas, and check the KServe fields against KServe's documented v1beta1 API."""
    (service,) = documents("kserve-inferenceservice.yaml")
    with pytest.raises(SchemaNotFoundError):
        kubernetes_validate.validate(service, K8S_VERSION, strict=True)
    assert (service["apiVersion"], service["kind"]) == ("serving.kserve.io/v1beta1", "InferenceService")
    validate_part(service["metadata"], "objectmeta-meta-v1.json")
    predictor = service["spec"]["predictor"]
    assert set(predictor) <= {"minReplicas", "maxReplicas", "canaryTrafficPercent", "model"}
    assert 1 <= predictor["minReplicas"] <= predictor["maxReplicas"]
    assert 0 <= predictor["canaryTrafficPercent"] <= 100
    model = dict(predictor["model"])
    assert model.pop("modelFormat") == {"name": "tensorflow"}
    assert model.pop("storageUri").startswith("pvc://reviews-models/")  # the PVC of k8s/pvc.yaml
    assert model.pop("runtimeVersion") == run.IMAGE.split(":")[1]
    validate_part(model["resources"], "resourcerequirements-v1.json")
    validate_part({"name": "kserve-container", **model}, "container-v1.json")  # ModelSpec embeds a Container


def test_deployment_compose_and_run_command_use_the_same_flags_and_image():
    container = documents("deployment.yaml")[0]["spec"]["template"]["spec"]["containers"][0]
    compose = yaml.safe_load((DEMO / "compose.yaml").read_text())["services"]["tfserving"]
    flags = run.server_flags("/config", "/config/models.config")
    assert container["args"] == flags
    assert compose["command"] == flags
    assert container["image"] == run.IMAGE
    assert compose["image"] == "${IMAGE:-" + run.IMAGE + "}"


def test_kustomization_builds_the_configmap_the_deployment_mounts():
    kustomization = yaml.safe_load((DEMO / "kustomization.yaml").read_text())
    for path in kustomization["resources"] + kustomization["configMapGenerator"][0]["files"]:
        assert (DEMO / path).is_file(), path
    volumes = documents("deployment.yaml")[0]["spec"]["template"]["spec"]["volumes"]
    config_maps = [v["configMap"]["name"] for v in volumes if "configMap" in v]
    assert config_maps == [kustomization["configMapGenerator"][0]["name"]]
    claims = [v["persistentVolumeClaim"]["claimName"] for v in volumes if "persistentVolumeClaim" in v]
    assert claims == [documents("pvc.yaml")[0]["metadata"]["name"]]


# --- compose.yaml ------------------------------------------------------------------------------------


def _check_compose(path: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(path)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_compose_file_validates_against_the_compose_spec(tmp_path):
    result = _check_compose(DEMO / "compose.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    broken = yaml.safe_load((DEMO / "compose.yaml").read_text())
    broken["services"]["tfserving"]["ports"] = "8501"  # must be a list
    (tmp_path / "compose.yaml").write_text(yaml.safe_dump(broken))
    assert _check_compose(tmp_path / "compose.yaml").returncode != 0


# --- Server config files -----------------------------------------------------------------------------


def test_model_config_parses_as_the_official_proto_with_both_versions_and_labels():
    (model,) = devconfig.model_server_config(DEMO / "config" / "models.config").model_config_list.config
    assert model.name == "reviews" and model.base_path == "/models/reviews"
    assert sorted(model.model_version_policy.specific.versions) == [1, 2]
    assert dict(model.version_labels) == {"stable": 1, "canary": 2}


def test_batching_and_monitoring_configs_parse():
    batching = devconfig.batching_parameters(DEMO / "config" / "batching.config")
    assert batching.max_batch_size.value == 64 and batching.batch_timeout_micros.value == 2000
    prometheus = devconfig.monitoring_config(DEMO / "config" / "monitoring.config").prometheus_config
    assert prometheus.enable and prometheus.path == "/monitoring/prometheus/metrics"


def test_a_typo_in_the_model_config_is_an_error(tmp_path):
    (tmp_path / "bad.config").write_text('model_config_list { config { nmae: "reviews" } }')
    with pytest.raises(ServingError, match="not a valid ModelServerConfig"):
        devconfig.model_server_config(tmp_path / "bad.config")


def test_local_config_points_at_the_absolute_models_folder(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    (model,) = devconfig.model_server_config(run.local_model_config(models)).model_config_list.config
    assert model.base_path == str(models / "reviews") and Path(model.base_path).is_absolute()
    assert dict(model.version_labels) == {"stable": 1, "canary": 2}


def test_the_notebooks_docker_command_is_the_run_commands(tmp_path):
    """Notebook 03 writes out the `docker run` a learner types; it must be what ./run.sh would run."""
    import nbformat

    nb = nbformat.read(DEMO.parents[1] / "notebooks" / "03_tf_serving.ipynb", as_version=4)
    text = next(c.source for c in nb.cells if c.cell_type == "markdown" and "docker run" in c.source)
    typed = text.split("```bash\n", 1)[1].split("```", 1)[0].replace("\\\n", " ").split()
    flags = [word for word in typed if word.startswith("--") and word != "--rm"]
    assert flags == run.server_flags("/config", "/config/models.config")
    assert run.IMAGE in typed and "127.0.0.1:8501:8501" in typed and "127.0.0.1:8500:8500" in typed
    docker, _ = run.command("docker", tmp_path, 8501, 8500)
    if docker[:2] != ["docker", "compose"]:
        assert "127.0.0.1:8501:8501" in docker and "127.0.0.1:8500:8500" in docker
    ports = yaml.safe_load((DEMO / "compose.yaml").read_text())["services"]["tfserving"]["ports"]
    assert all(port.startswith("127.0.0.1:") for port in ports)


def test_clients_ask_for_the_stable_label_unless_told_otherwise(monkeypatch):
    """Without a version or label TF Serving answers with the highest loaded version: the canary."""
    from tfserving_demo.grpc_client import GrpcClient
    from tfserving_demo.rest_client import RestClient

    client = GrpcClient("127.0.0.1:1", "reviews")  # no connection is made until a call
    assert client.predict_request(["x"]).model_spec.version_label == "stable"
    assert client.predict_request(["x"], version=1).model_spec.version.value == 1
    assert client.predict_request(["x"], label=None).model_spec.version_label == ""
    client.close()
    rest, paths = RestClient("http://127.0.0.1:1", "reviews"), []

    def record(body, version, label):
        paths.append(rest._model_path(version, label))
        return {"predictions": []}

    monkeypatch.setattr(rest, "predict_json", record)
    for kwargs in ({}, {"version": 1}, {"label": None}):
        rest.predict(["x"], **kwargs)
    assert [p.split("/v1/models/reviews")[1] for p in paths] == ["/labels/stable", "/versions/1", ""]


def test_readme_documents_every_flag_and_route():
    readme = (DEMO / "README.md").read_text()
    for flag in run.server_flags("/config", "/config/models.config"):
        assert flag.split("=")[0] in readme, flag
    for topic in (
        "dpkg-deb -x",
        "docker compose up",
        "kubectl apply -k",
        "InferenceService",
        "TFSERVING_URL",
    ):
        assert topic in readme, topic


# --- The run command's choice --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("engine", "binary", "expected"),
    [
        (True, "/usr/bin/tensorflow_model_server", "docker"),
        (False, "/opt/tfs/usr/bin/tensorflow_model_server", "binary"),
        (False, None, "dev"),
    ],
)
def test_run_command_prefers_docker_then_binary_then_dev_server(monkeypatch, engine, binary, expected):
    monkeypatch.setattr(run, "docker_engine", lambda: engine)
    monkeypatch.setattr(run, "binary", lambda: binary)
    kind, why = run.pick()
    assert kind == expected and why
    assert ("NOT TensorFlow Serving" in run.KINDS[kind]) == (kind == "dev")


def test_docker_cli_without_an_engine_does_not_count():
    answered = (
        shutil.which("docker") and subprocess.run(["docker", "info"], capture_output=True).returncode == 0
    )
    assert run.docker_engine() == bool(answered)


def test_commands_for_each_server(tmp_path):
    (tmp_path / "models").mkdir()
    docker, _ = run.command("docker", tmp_path / "models", 8501, 8500)
    assert docker[:2] == ["docker", "compose"] or run.IMAGE in docker
    binary, _ = run.command("binary", tmp_path / "models", 18501, 18500)
    dev, _ = run.command("dev", tmp_path / "models", 18501, 18500)
    assert binary[1:] == dev[3:]  # the same flags for the real binary and the development server
    assert dev[1:3] == ["-m", "tfserving_devserver"] and "--rest_api_port=18501" in dev


# --- The error helper ----------------------------------------------------------------------------------

MESSAGES = {
    "No versions of servable reviews found under base path /models/reviews. Did you forget to name your "
    "leaf directory as a number (eg. '/1/')?": "/models/reviews/1/",
    "Could not find base path /models/reviews for servable reviews": "volume mount",
    "Request to assign label to version 2 of model reviews, which is not currently available for "
    "inference": "--allow_version_labels_for_unavailable_models=true",
    "Unrecognized servable version label: beta": "'beta'",
    "Servable not found for request: Specific(reviews, 3)": "Version 3 of model reviews",
    "Servable not found for request: Latest(review)": "'review'",
    "JSON Value: {...} Not formatted correctly expecting only one of 'inputs' or 'instances' keys "
    "to exist ": "not both",
    "Failed to process element: 0 key: txt of 'instances' list. Error: INVALID_ARGUMENT: JSON object: does "
    "not have named input: txt": "'txt'",
    "input tensor alias not found in signature: txt. Inputs expected to be in the set {text}.": "'txt'",
    "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: JSON Value: 1 Type: Number "
    "is not of expected type: string": "expects string",
    "Expects arg[0] to be string but float is provided": "expects string",
    "cannot connect to http://127.0.0.1:8501: Connection refused": "not ready",
    "Malformed request: GET /v1/models/reviews:predict": "POST /v1/models/<name>",
}


@pytest.mark.parametrize(("message", "advice"), MESSAGES.items(), ids=range(len(MESSAGES)))
def test_explain_turns_a_known_error_into_one_actionable_sentence(message, advice):
    sentence = explain(message)
    assert advice in sentence
    assert sentence.endswith(".") and "\n" not in sentence


def test_explain_passes_unknown_errors_through():
    assert (
        explain("something else entirely")
        == "Not a known TF Serving error; the server said: something else entirely"
    )


# --- The model repository --------------------------------------------------------------------------------


@pytest.mark.slow
def test_model_repository_has_version_1_from_the_export_and_a_retrained_version_2(exports):
    from nowwhat.tf_serving.models import load, models_dir

    manifest = load()
    base = models_dir() / "reviews"
    assert sorted(p.name for p in base.iterdir()) == ["1", "2"]
    assert filecmp.cmp(
        base / "1" / "saved_model.pb", exports / "serving" / "reviews" / "1" / "saved_model.pb", shallow=False
    )
    assert (base / "2" / "saved_model.pb").read_bytes() != (base / "1" / "saved_model.pb").read_bytes()
    assert set(manifest["versions"]) == {"1", "2"}
    assert "seed 7" in manifest["versions"]["2"]["source"]
    assert (
        json.loads((models_dir() / "manifest.json").read_text())["export_created"]
        == json.loads((exports / "manifest.json").read_text())["created"]
    )


def test_the_config_watch_skips_a_file_caught_half_rewritten(tmp_path):
    """`write_text` truncates, then writes: a poll in between must not unload every model (notebook 03's
    exercise rewrites the running server's config copy that way)."""
    from tfserving_devserver.__main__ import config_watch

    applied = []

    class Manager:
        def apply_config(self, config):
            applied.append([m.name for m in config.model_config_list.config])

    path = tmp_path / "models.config"
    original = run.local_model_config(tmp_path / "models", tmp_path / "copy.config").read_text()
    path.write_text(original)
    check = config_watch(str(path), Manager())
    path.write_text("")  # the moment between the truncate and the write
    check()
    assert applied == []
    path.write_text(original.replace("value: 1", "value: 2"))
    check()
    assert applied == [["reviews"]]
