"""Conformance: TF Serving's documented REST and gRPC behaviour, checked against whichever server runs.

Each test cites what it checks: the REST API page (`g3doc/api/api_rest.md`), the gRPC protos
(`tensorflow_serving/apis/*.proto`), the serving config guide (`serving_config.md`), or the server code
the docs defer to (status mapping in `http_server.cc`, JSON rules in `util/json_tensor.cc`).

Target: $TFSERVING_URL (+ $TFSERVING_GRPC) if set, else $TFSERVING_BIN, else the development server —
same tests, no edits. The server must serve the demo's model repository (`python -m nowwhat
tf-serving models`) with the demo's config (versions 1 and 2, labels stable → 1, canary → 2).
"""

from __future__ import annotations

import base64

import grpc
import numpy as np
import pytest
import requests
import tensorflow as tf
from tensorflow_serving.apis import get_model_metadata_pb2, get_model_status_pb2, predict_pb2
from tfserving_demo.grpc_client import GrpcClient, decode
from tfserving_demo.run import connect

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

REVIEWS = ["Great coffee, I buy it every month!", "Stale and overpriced.", "ok I guess <br /> not great"]
OUTPUTS = {"label", "label_id", "probabilities"}


@pytest.fixture(scope="module")
def server(exports):
    from nowwhat.tf_serving.models import load, models_dir

    load()
    with connect(models_dir()) as running:
        yield running


@pytest.fixture(scope="module")
def rest(server):
    session = requests.Session()
    yield lambda method, path, **kw: session.request(method, f"{server.rest_url}{path}", timeout=30, **kw)
    session.close()


@pytest.fixture(scope="module")
def grpc_client(server):
    if not server.grpc_target:
        pytest.skip("no gRPC address given ($TFSERVING_GRPC)")
    client = GrpcClient(server.grpc_target, server.model)
    yield client
    client.close()


def assert_error(response, status: int) -> str:
    """api_rest.md: 'In case of error, all APIs will return a JSON object in the response body with
    error as key and the error message as the value'; the status follows http_server.cc."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and isinstance(body["error"], str) and body["error"]
    return body["error"]


def predict(rest, body, path="/v1/models/reviews:predict"):
    return rest("POST", path, json=body)


# --- Model status API ------------------------------------------------------------------------------


def test_status_lists_every_served_version_as_available(rest):
    """api_rest.md, Model status API: GET /v1/models/${MODEL_NAME} returns GetModelStatusResponse for all
    versions; the example shows version as a string, state AVAILABLE, status error_code OK."""
    response = rest("GET", "/v1/models/reviews")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    entries = response.json()["model_version_status"]
    assert sorted(e["version"] for e in entries) == ["1", "2"]
    for entry in entries:
        assert entry["state"] == "AVAILABLE"
        assert entry["status"]["error_code"] == "OK"


@pytest.mark.parametrize(
    ("suffix", "version"),
    [("/versions/1", "1"), ("/versions/2", "2"), ("/labels/stable", "1"), ("/labels/canary", "2")],
)
def test_status_of_one_version_or_label(rest, suffix, version):
    """api_rest.md: GET /v1/models/${MODEL_NAME}[/versions/${VERSION}|/labels/${LABEL}];
    serving_config.md: version_labels map stable → 1, canary → 2 in the demo's config."""
    entries = rest("GET", f"/v1/models/reviews{suffix}").json()["model_version_status"]
    assert [(e["version"], e["state"]) for e in entries] == [(version, "AVAILABLE")]


def test_status_of_unknown_model_or_version_is_404(rest):
    """http_server.cc maps NOT_FOUND to 404; get_model_status_impl.cc returns NOT_FOUND for a model or a
    version the server does not know."""
    assert_error(rest("GET", "/v1/models/no_such_model"), 404)
    assert_error(rest("GET", "/v1/models/reviews/versions/99"), 404)


def test_unknown_label_is_invalid_argument(rest):
    """server_core.cc: an unknown label is INVALID_ARGUMENT ('Unrecognized servable version label'),
    which http_server.cc maps to 400."""
    message = assert_error(rest("GET", "/v1/models/reviews/labels/no_such_label"), 400)
    assert "no_such_label" in message


# --- Model metadata API ----------------------------------------------------------------------------


def test_metadata_describes_the_serving_signature(rest):
    """api_rest.md, Model Metadata API: GET .../metadata returns GetModelMetadataResponse as JSON (the
    latest version if none is given), with model_spec and metadata.signature_def."""
    body = rest("GET", "/v1/models/reviews/metadata").json()
    assert body["model_spec"]["name"] == "reviews"
    assert body["model_spec"]["version"] == "2"
    signature = body["metadata"]["signature_def"]["signature_def"]["serving_default"]
    assert signature["method_name"] == "tensorflow/serving/predict"
    assert set(signature["inputs"]) == {"text"}
    assert signature["inputs"]["text"]["dtype"] == "DT_STRING"
    assert set(signature["outputs"]) == OUTPUTS
    assert signature["outputs"]["probabilities"]["dtype"] == "DT_FLOAT"


@pytest.mark.parametrize(("suffix", "version"), [("/versions/1", "1"), ("/labels/canary", "2")])
def test_metadata_of_one_version_or_label(rest, suffix, version):
    """api_rest.md: GET /v1/models/${MODEL_NAME}[/versions/${VERSION}|/labels/${LABEL}]/metadata."""
    assert rest("GET", f"/v1/models/reviews{suffix}/metadata").json()["model_spec"]["version"] == version


# --- Predict API: formats ---------------------------------------------------------------------------


def test_row_format_returns_one_object_per_instance(rest):
    """api_rest.md, Predict API: 'instances' (row format) → 'predictions'; with several named outputs,
    'we output a list of objects'."""
    response = predict(rest, {"instances": REVIEWS})
    assert response.status_code == 200
    predictions = response.json()["predictions"]
    assert len(predictions) == len(REVIEWS)
    for row in predictions:
        assert set(row) == OUTPUTS
        assert row["label"] in ("great", "other")
        assert len(row["probabilities"]) == 2 and abs(sum(row["probabilities"]) - 1) < 1e-5
        assert row["label_id"] == int(np.argmax(row["probabilities"]))


def test_row_format_with_named_inputs_equals_plain_list(rest):
    """api_rest.md: 'For multiple named inputs, each item is expected to be an object containing input
    name/tensor value pair' — the object form names the single input explicitly."""
    plain = predict(rest, {"instances": REVIEWS}).json()["predictions"]
    named = predict(rest, {"instances": [{"text": t} for t in REVIEWS]}).json()["predictions"]
    assert plain == named


def test_columnar_format_returns_outputs_object(rest):
    """api_rest.md: 'inputs' (columnar) → 'outputs'; 'If the model outputs multiple named tensors, we
    output an object instead. Each key of this object corresponds to a named output tensor.'"""
    for inputs in (REVIEWS, {"text": REVIEWS}):
        outputs = predict(rest, {"inputs": inputs}).json()["outputs"]
        assert set(outputs) == OUTPUTS
        assert np.asarray(outputs["probabilities"]).shape == (len(REVIEWS), 2)


def test_row_and_columnar_formats_agree(rest):
    """api_rest.md: the two formats are two encodings of the same input tensors."""
    rows = predict(rest, {"instances": REVIEWS}).json()["predictions"]
    columns = predict(rest, {"inputs": {"text": REVIEWS}}).json()["outputs"]
    np.testing.assert_allclose([r["probabilities"] for r in rows], columns["probabilities"], atol=1e-7)


def test_b64_object_is_decoded_for_string_inputs(rest):
    """api_rest.md, Encoding binary values: binary data is sent as {"b64": <base64 encoded string>}."""
    encoded = [{"b64": base64.b64encode(t.encode()).decode()} for t in REVIEWS]
    plain = predict(rest, {"instances": REVIEWS}).json()["predictions"]
    assert predict(rest, {"instances": encoded}).json()["predictions"] == plain


def test_explicit_signature_name(rest):
    """api_rest.md: '(Optional) Serving signature to use. If unspecified default serving signature is
    used.'"""
    named = predict(rest, {"signature_name": "serving_default", "instances": REVIEWS}).json()
    assert named == predict(rest, {"instances": REVIEWS}).json()
    assert_error(predict(rest, {"signature_name": "no_such_signature", "instances": REVIEWS}), 400)


def test_versions_and_labels_route_to_the_named_model(rest):
    """api_rest.md: POST /v1/models/${MODEL_NAME}[/versions/${VERSION}|/labels/${LABEL}]:predict, the
    latest version when omitted; serving_config.md: labels are aliases of versions."""

    def probabilities(suffix):
        body = {"inputs": {"text": REVIEWS}}
        return predict(rest, body, f"/v1/models/reviews{suffix}:predict").json()["outputs"]["probabilities"]

    assert probabilities("/labels/stable") == probabilities("/versions/1")
    assert probabilities("/labels/canary") == probabilities("/versions/2") == probabilities("")
    assert probabilities("/versions/1") != probabilities("/versions/2")  # two different models


# --- Predict API: errors ----------------------------------------------------------------------------


def test_instances_and_inputs_together_are_refused(rest):
    """api_rest.md: 'A request can have either of them but NOT both.'"""
    assert_error(predict(rest, {"instances": REVIEWS, "inputs": REVIEWS}), 400)


@pytest.mark.parametrize(
    "body",
    [
        {},  # json_tensor.cc: "Missing 'inputs' or 'instances' key"
        {"instances": []},  # json_tensor.cc: "No values in 'instances' array"
        {"instances": "not a list"},  # json_tensor.cc: "Excepting 'instances' to be an list/array"
        {"instances": [42]},  # api_rest.md JSON mapping: DT_STRING is a JSON string
        {"instances": [{"txt": "wrong input name"}]},  # json_tensor.cc: "does not have named input"
        {"inputs": {"txt": ["wrong input name"]}},  # json_tensor.cc: "Missing named input"
        {"instances": [{"b64": "not base64!"}]},  # json_tensor.cc: "Unable to base64 decode"
        {"signature_name": 7, "instances": ["x"]},  # json_tensor.cc: signature_name must be a string
        [1, 2, 3],  # json_tensor.cc: the top level must be a JSON object
    ],
)
def test_bad_predict_bodies_are_400_with_an_error(rest, body):
    """http_server.cc: INVALID_ARGUMENT → 400; api_rest.md: errors are {"error": message}."""
    assert_error(predict(rest, body), 400)


def test_body_that_is_not_json_is_400(rest):
    """json_tensor.cc ParseJson: a body that does not parse is INVALID_ARGUMENT ('JSON Parse error')."""
    assert_error(rest("POST", "/v1/models/reviews:predict", data=b"{not json"), 400)
    assert_error(rest("POST", "/v1/models/reviews:predict", data=b""), 400)


def test_predict_on_unknown_model_or_version_is_404(rest):
    """api_rest.md example: a predict call for an unknown model answers HTTP 404 with
    {"error": "Servable not found for request: ..."}."""
    assert_error(predict(rest, {"instances": REVIEWS}, "/v1/models/half:predict"), 404)
    assert_error(predict(rest, {"instances": REVIEWS}, "/v1/models/reviews/versions/99:predict"), 404)


def test_predict_with_unknown_label_is_400(rest):
    """server_core.cc: 'Unrecognized servable version label' is INVALID_ARGUMENT → 400."""
    assert_error(predict(rest, {"instances": REVIEWS}, "/v1/models/reviews/labels/nope:predict"), 400)


def test_wrong_method_or_path_under_v1_is_malformed_request(rest):
    """http_rest_api_handler.cc: a request under /v1/ that matches no API is INVALID_ARGUMENT
    'Malformed request' → 400."""
    assert "Malformed request" in assert_error(rest("GET", "/v1/models/reviews:predict"), 400)
    assert "Malformed request" in assert_error(rest("POST", "/v1/models/reviews"), 400)


# --- gRPC ------------------------------------------------------------------------------------------


def test_grpc_predict_outputs_and_effective_model_spec(grpc_client):
    """predict.proto: PredictResponse.outputs holds the signature's named output tensors, and
    model_spec is the 'effective model specification used to process PredictRequest' (its version)."""
    # label=None: the client names no version or label, so the server picks the highest loaded one
    for kwargs, version in (({"label": None}, 2), ({"version": 1}, 1), ({}, 1), ({"label": "canary"}, 2)):
        response = grpc_client.predictions.Predict(grpc_client.predict_request(REVIEWS, **kwargs), timeout=30)
        assert response.model_spec.version.value == version
        outputs = decode(response)
        assert set(outputs) == OUTPUTS
        assert outputs["probabilities"].shape == (len(REVIEWS), 2)
        assert outputs["probabilities"].dtype == np.float32
        assert outputs["label_id"].tolist() == outputs["probabilities"].argmax(1).tolist()


def test_grpc_output_filter(grpc_client):
    """predict.proto: output_filter 'Output filter. Names specified must be alias names of outputs
    in the signature'; only those are returned."""
    request = grpc_client.predict_request(REVIEWS)
    request.output_filter.append("probabilities")
    assert set(grpc_client.predictions.Predict(request, timeout=30).outputs) == {"probabilities"}


def test_grpc_and_rest_agree(rest, grpc_client):
    """api_rest.md: the REST Predict API 'closely follows the PredictionService.Predict gRPC API'."""
    via_rest = predict(rest, {"inputs": {"text": REVIEWS}}).json()["outputs"]["probabilities"]
    via_grpc = grpc_client.predict(REVIEWS, label=None)["probabilities"]  # both name no version
    np.testing.assert_allclose(via_grpc, via_rest, atol=1e-6)


def test_grpc_metadata(grpc_client):
    """get_model_metadata.proto: metadata['signature_def'] is an Any holding a SignatureDefMap."""
    metadata = grpc_client.metadata(label="stable")
    assert metadata["version"] == 1
    signature = metadata["signature_def"]["serving_default"]
    assert signature.inputs["text"].dtype == tf.string.as_datatype_enum
    assert set(signature.outputs) == OUTPUTS


def test_grpc_metadata_needs_the_signature_def_field(grpc_client):
    """get_model_metadata.proto: metadata_field lists what to return; only 'signature_def' exists."""
    request = get_model_metadata_pb2.GetModelMetadataRequest()
    request.model_spec.name = "reviews"
    with pytest.raises(grpc.RpcError) as caught:
        grpc_client.predictions.GetModelMetadata(request, timeout=30)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_grpc_model_status(grpc_client):
    """model_service.proto GetModelStatus / get_model_status.proto: ModelVersionStatus per version."""
    assert sorted(grpc_client.status()) == [(1, "AVAILABLE"), (2, "AVAILABLE")]
    assert grpc_client.status(label="canary") == [(2, "AVAILABLE")]
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = "no_such_model"
    with pytest.raises(grpc.RpcError) as caught:
        grpc_client.models.GetModelStatus(request, timeout=30)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


def _grpc_code(grpc_client, request) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as caught:
        grpc_client.predictions.Predict(request, timeout=30)
    return caught.value.code()


def test_grpc_errors_have_the_documented_codes(grpc_client):
    """Status codes TF Serving returns (server_core.cc, predict_util.cc, TensorFlow's Session::Run):
    unknown model or version NOT_FOUND; unknown label, wrong input name or dtype INVALID_ARGUMENT;
    unknown signature FAILED_PRECONDITION."""
    unknown_model = predict_pb2.PredictRequest()
    unknown_model.CopyFrom(grpc_client.predict_request(REVIEWS, label=None))
    unknown_model.model_spec.name = "no_such_model"
    assert _grpc_code(grpc_client, unknown_model) == grpc.StatusCode.NOT_FOUND
    assert (
        _grpc_code(grpc_client, grpc_client.predict_request(REVIEWS, version=99)) == grpc.StatusCode.NOT_FOUND
    )
    assert _grpc_code(grpc_client, grpc_client.predict_request(REVIEWS, label="nope")) == (
        grpc.StatusCode.INVALID_ARGUMENT
    )
    wrong_name = grpc_client.predict_request(REVIEWS)
    wrong_name.inputs["txt"].CopyFrom(wrong_name.inputs.pop("text"))
    assert _grpc_code(grpc_client, wrong_name) == grpc.StatusCode.INVALID_ARGUMENT
    wrong_dtype = grpc_client.predict_request(REVIEWS)
    wrong_dtype.inputs["text"].CopyFrom(tf.make_tensor_proto([1.0, 2.0]))
    assert _grpc_code(grpc_client, wrong_dtype) == grpc.StatusCode.INVALID_ARGUMENT
    wrong_signature = grpc_client.predict_request(REVIEWS, signature_name="no_such_signature")
    assert _grpc_code(grpc_client, wrong_signature) == grpc.StatusCode.FAILED_PRECONDITION
