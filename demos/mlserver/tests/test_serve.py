"""The model behind the Open Inference Protocol (V2), REST and gRPC, as MLServer serves it from this
folder: answers equal to the model's, metadata and health, bad input answered with a 4xx and a message,
and adaptive batching merging concurrent requests on the batched model only."""

from __future__ import annotations

import re
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from small_model import LABELS, expected

from conftest import call

MODELS = ("reviews", "reviews-batched")
TEXTS = ["lovely great tea", "awful stale tea", "fine", "tea TEA tea", "something unknown"]


def infer_body(texts: list[str]) -> dict:
    return {"inputs": [{"name": "text", "shape": [len(texts)], "datatype": "BYTES", "data": texts}]}


def outputs(answer: dict) -> dict:
    return {output["name"]: output for output in answer["outputs"]}


@pytest.mark.parametrize("model", MODELS)
def test_rest_answers_are_the_model_s(server, model):
    status, answer = call(f"{server.url}/v2/models/{model}/infer", infer_body(TEXTS))
    assert status == 200, answer
    got = outputs(answer)
    probabilities = np.array(got["probabilities"]["data"], np.float32).reshape(got["probabilities"]["shape"])
    assert got["probabilities"]["datatype"] == "FP32" and probabilities.shape == (len(TEXTS), len(LABELS))
    assert np.abs(probabilities - expected(TEXTS)).max() <= 1e-6
    assert got["label"]["data"] == [LABELS[i] for i in expected(TEXTS).argmax(axis=1)]
    assert answer["model_name"] == model and answer["model_version"] == "1"


def test_grpc_answers_are_the_model_s(server):
    import grpc
    from mlserver.grpc import dataplane_pb2 as pb
    from mlserver.grpc.dataplane_pb2_grpc import GRPCInferenceServiceStub

    tensor = pb.ModelInferRequest.InferInputTensor(
        name="text", datatype="BYTES", shape=[len(TEXTS)],
        contents=pb.InferTensorContents(bytes_contents=[t.encode() for t in TEXTS]),
    )  # fmt: skip
    with grpc.insecure_channel(server.grpc) as channel:
        stub = GRPCInferenceServiceStub(channel)
        assert stub.ModelReady(pb.ModelReadyRequest(name="reviews"), timeout=30).ready
        answer = stub.ModelInfer(pb.ModelInferRequest(model_name="reviews", inputs=[tensor]), timeout=30)
    (index,) = [i for i, output in enumerate(answer.outputs) if output.name == "probabilities"]
    if answer.raw_output_contents:
        values = np.frombuffer(answer.raw_output_contents[index], np.float32)
    else:
        values = np.array(answer.outputs[index].contents.fp32_contents, np.float32)
    assert np.abs(values.reshape(len(TEXTS), len(LABELS)) - expected(TEXTS)).max() <= 1e-6


def test_metadata_and_health(server):
    assert call(f"{server.url}/v2/health/live")[0] == 200
    assert call(f"{server.url}/v2/models/reviews-batched/ready")[0] == 200
    status, metadata = call(f"{server.url}/v2/models/reviews")
    assert status == 200 and [i["name"] for i in metadata["inputs"]] == ["text"]
    assert [o["name"] for o in metadata["outputs"]] == ["probabilities", "label"]
    assert call(f"{server.url}/v2")[1]["name"] == "mlserver"


def test_the_scikit_learn_pipeline_answers_with_its_own_probabilities(server):
    status, answer = call(f"{server.url}/v2/models/reviews-sklearn/infer", infer_body(TEXTS))
    assert status == 200, answer
    (got,) = answer["outputs"]
    assert got["name"] == "predict_proba" and got["shape"] == [len(TEXTS), len(LABELS)]
    np.testing.assert_allclose(np.reshape(got["data"], got["shape"]), server.pipeline.predict_proba(TEXTS))
    asked = {**infer_body(TEXTS), "outputs": [{"name": "predict"}]}
    status, answer = call(f"{server.url}/v2/models/reviews-sklearn/infer", asked)
    assert status == 200 and answer["outputs"][0]["data"] == list(server.pipeline.predict(TEXTS))


@pytest.mark.parametrize("model", ["reviews-batched", "reviews-sklearn"])
@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (infer_body(["fine", "  "]), 400, "review 1 is empty"),
        ({"inputs": [{"name": "text", "shape": [1], "datatype": "BYTES", "data": [123]}]}, 400, "text"),
        (infer_body(["x" * 100_001]), 400, "100,001 characters"),
        ({"inputs": [{"name": "text", "shape": [1], "datatype": "FP32", "data": [1.0]}]}, 400, "BYTES"),
        ({"inputs": []}, 400, "BYTES"),
        (infer_body([]), 400, "no reviews"),
        ({"inputs": [{"name": "text", "shape": [1], "datatype": "BYTES", "data": [None]}]}, 400, "text"),
        ({"nothing": True}, 422, "inputs"),
        (b"{broken", 422, "JSON"),
    ],
    ids=["empty", "number", "huge", "not-text", "no-inputs", "none", "null", "no-field", "broken-json"],
)
def test_bad_input_is_a_4xx_with_a_message_and_no_traceback(server, model, body, status, says):
    raw = body if isinstance(body, bytes) else None
    got, answer = call(f"{server.url}/v2/models/{model}/infer", None if raw else body, raw=raw)
    assert got == status and says in str(answer) and "Traceback" not in str(answer), answer


def test_an_unknown_model_is_a_404(server):
    status, answer = call(f"{server.url}/v2/models/sentiment/infer", infer_body(["fine"]))
    assert status == 404 and "sentiment" in str(answer)


def batch_calls(server, model: str) -> tuple[float, float]:
    """(reviews, calls of predict()) the runtime's histogram has counted for `model`."""
    text = urllib.request.urlopen(server.metrics, timeout=30).read().decode()
    found = {
        kind: float(m.group(1)) if (m := re.search(
            rf'^review_batch_size_{kind}{{model_name="{model}",model_version="1"}} (\S+)$', text, re.M
        )) else 0.0
        for kind in ("sum", "count")
    }  # fmt: skip
    return found["sum"], found["count"]


@pytest.mark.parametrize(("model", "merges"), [("reviews", False), ("reviews-batched", True)])
def test_adaptive_batching_merges_concurrent_requests_only_where_configured(server, model, merges):
    before = batch_calls(server, model)
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda t: call(f"{server.url}/v2/models/{model}/infer", infer_body([t])),
                                TEXTS * 20))
    assert all(status == 200 for status, _ in answers)
    reviews, calls = (a - b for a, b in zip(batch_calls(server, model), before, strict=True))
    assert reviews == len(TEXTS) * 20
    assert (calls < reviews) == merges, (reviews, calls)
