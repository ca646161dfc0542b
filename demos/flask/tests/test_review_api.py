"""The API through Flask's test client, serving the small model of conftest.py: the contract, the limits,
every kind of bad input, no stack traces, input rules of your own."""

from __future__ import annotations

import json
import shutil

import pytest
import review_api
import review_model
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from review_model import WORD, ModelNotFound, ReviewModel
from small_model import LABELS, NAME, export

OPENAPI = json.loads(review_api.OPENAPI.read_text())


@pytest.fixture(scope="module")
def model(model_dir):
    return ReviewModel(model_dir)


@pytest.fixture(scope="module")
def client(model):
    return review_api.create_app(model).test_client()


def post(client, path, payload=None, **kwargs):
    if payload is not None:
        kwargs["json"] = payload
    return client.post(path, **kwargs)


def assert_problem(response, status):
    """Every error: the right status, a problem+json body that says it, and nothing from the server's guts."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["detail"]
    assert set(body) == {"type", "title", "status", "detail"}
    assert "Traceback" not in response.get_data(as_text=True)
    return body["detail"]


def test_answers_equal_keras_with_the_model_s_name_version_and_labels(client, expected):
    for text, probabilities in expected.items():
        body = post(client, "/v1/predict", {"text": text}).get_json()
        assert body["model"] == {"name": NAME, "version": 2}  # the highest version folder
        assert list(body["probabilities"]) == LABELS
        assert list(body["probabilities"].values()) == pytest.approx(probabilities, abs=1e-6)
        assert body["label"] == LABELS[probabilities.index(max(probabilities))]


def test_batch_keeps_order_and_matches_single_calls(client):
    texts = ["Awful. Stale and broken.", "Best tea ever, I love it!", "ok I guess"]
    batch = post(client, "/v1/predict/batch", {"texts": texts}).get_json()
    assert len(batch["predictions"]) == len(texts)
    for text, prediction in zip(texts, batch["predictions"], strict=True):
        single = post(client, "/v1/predict", {"text": text}).get_json()
        assert prediction["label"] == single["label"]
        for label, p in prediction["probabilities"].items():
            assert p == pytest.approx(single["probabilities"][label], abs=1e-6)


def test_metadata_names_model_metrics_signature_and_limits(client):
    body = client.get("/v1/metadata").get_json()
    metrics = {"accuracy": 1.0, "n": 9}
    assert body["model"] == {"name": NAME, "version": 2, "labels": LABELS, "test_metrics": metrics}
    assert body["signature"] == {
        "inputs": {"text": "string [None]"},
        "outputs": {"probabilities": "float32 [None, 3]"},
    }
    assert body["limits"] == {
        "max_text_chars": review_api.MAX_TEXT_CHARS,
        "max_batch_size": review_api.MAX_BATCH,
        "max_body_bytes": review_api.MAX_BODY_BYTES,
    }


def test_health_endpoints(client):
    assert client.get("/health/live").get_json() == {"status": "alive"}
    ready = client.get("/health/ready").get_json()
    assert ready["status"] == "ready" and ready["model"]["name"] == NAME


def test_serves_the_openapi_document_with_the_model_s_labels(client):
    served = client.get("/openapi.json").get_json()
    schemas = served["components"]["schemas"]
    assert schemas["Label"]["enum"] == LABELS
    assert schemas["Probabilities"]["required"] == LABELS
    assert list(schemas["Probabilities"]["properties"]) == LABELS
    committed = json.loads(review_api.OPENAPI.read_text())
    for name in ("Label", "Probabilities"):  # all else is the file as committed
        del schemas[name], committed["components"]["schemas"][name]
    assert served == committed


def test_every_route_is_documented_and_every_documented_path_exists(client):
    routes = {
        (rule.rule, method)
        for rule in client.application.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {(path, method.upper()) for path, ops in OPENAPI["paths"].items() for method in ops}
    assert routes == documented


def test_documented_limits_equal_the_enforced_ones():
    schemas = OPENAPI["components"]["schemas"]
    assert schemas["Review"]["maxLength"] == review_api.MAX_TEXT_CHARS
    assert schemas["Review"]["pattern"] == WORD.pattern
    assert schemas["BatchRequest"]["properties"]["texts"]["maxItems"] == review_api.MAX_BATCH
    limits = schemas["Metadata"]["properties"]["limits"]["properties"]
    assert limits["max_body_bytes"]["const"] == review_api.MAX_BODY_BYTES
    assert f"{review_api.MAX_BODY_BYTES:,}" in OPENAPI["info"]["description"]


def test_limits_are_inclusive(client):
    longest = "good " * (review_api.MAX_TEXT_CHARS // 5)
    assert len(longest) == review_api.MAX_TEXT_CHARS
    assert post(client, "/v1/predict", {"text": longest}).status_code == 200
    full = post(client, "/v1/predict/batch", {"texts": ["fine"] * review_api.MAX_BATCH})
    assert full.status_code == 200 and len(full.get_json()["predictions"]) == review_api.MAX_BATCH


BAD_JSON = [
    ({"text": ""}, "empty"),
    ({"text": " \t\n "}, "empty"),
    ({"text": "\u3000\u00a0"}, "empty"),
    ({"text": "x" * (review_api.MAX_TEXT_CHARS + 1)}, "10,001 characters"),
    ({"text": 42}, "must be a string"),
    ({"text": None}, "must be a string"),
    ({"text": ["a list"]}, "must be a string"),
    ({}, "'text' is missing"),
    ({"txt": "typo"}, "'text' is missing"),
    ({"text": "fine", "extra": 1}, "unknown field(s) 'extra'"),
    (["text", "in a list"], "must be a JSON object"),
    ("just a string", "must be a JSON object"),
    (None, "must be a JSON object"),
    ({"text": "lone \ud800 surrogate"}, "surrogate"),
]


@pytest.mark.parametrize(("payload", "says"), BAD_JSON, ids=[f"predict-{i}" for i in range(len(BAD_JSON))])
def test_invalid_review_is_a_422_that_says_why(client, payload, says):
    body = json.dumps(payload)  # ensure_ascii: a lone surrogate travels as \ud800, as a client would send it
    response = client.post("/v1/predict", data=body, content_type="application/json")
    assert says in assert_problem(response, 422)


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        ({"texts": []}, "between 1 and 64"),
        ({"texts": ["ok"] * (review_api.MAX_BATCH + 1)}, "holds 65 reviews"),
        ({"texts": "not a list"}, "must be a list"),
        ({"texts": ["fine", ""]}, "texts[1] is empty"),
        ({"texts": ["fine", 3]}, "texts[1] must be a string"),
        ({"texts": [None]}, "texts[0] must be a string"),
        ({"text": "one review sent to the batch endpoint"}, "'texts' is missing"),
    ],
)
def test_invalid_batch_is_a_422_that_names_the_review(client, payload, says):
    assert says in assert_problem(post(client, "/v1/predict/batch", payload), 422)


@pytest.mark.parametrize(
    ("kwargs", "status", "says"),
    [
        ({"data": "text=hello", "content_type": "application/x-www-form-urlencoded"}, 415, "Content-Type"),
        ({"data": '{"text": "no content type"}'}, 415, "Content-Type"),
        ({"data": "<text>xml</text>", "content_type": "text/xml"}, 415, "Content-Type"),
        ({"data": "{not json", "content_type": "application/json"}, 400, "not valid JSON"),
        ({"data": "", "content_type": "application/json"}, 400, "not valid JSON"),
        ({"data": b"\xff\xfe\xfa", "content_type": "application/json"}, 400, "not valid JSON"),
        ({"data": "[" * 100_000 + "]" * 100_000, "content_type": "application/json"}, 400, "not valid JSON"),
        ({"data": '{"text": NaN}', "content_type": "application/json"}, 422, "must be a string"),
    ],
    ids=["form", "no-type", "xml", "broken", "empty", "not-utf8", "deep-nesting", "nan"],
)
def test_not_json_is_a_4xx(client, kwargs, status, says):
    assert says in assert_problem(client.post("/v1/predict", **kwargs), status)


def test_body_over_the_limit_is_a_413(client):
    body = json.dumps({"text": "a" * review_api.MAX_BODY_BYTES})
    response = client.post("/v1/predict", data=body, content_type="application/json")
    assert "1,048,576 bytes" in assert_problem(response, 413)


def test_unknown_route_and_wrong_method(client):
    assert_problem(client.get("/v1/nope"), 404)
    assert_problem(client.get("/"), 404)
    response = client.get("/v1/predict")
    assert_problem(response, 405)
    assert "POST" in response.headers["Allow"]
    assert_problem(client.delete("/health/live"), 405)


def test_an_internal_error_is_a_500_without_a_stack_trace(model, monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")  # even when someone switches debug on in the environment
    app = review_api.create_app(model)
    assert app.debug is False
    monkeypatch.setattr(model, "predict", lambda texts: 1 / 0)
    response = app.test_client().post("/v1/predict", json={"text": "boom"})
    detail = assert_problem(response, 500)
    assert "ZeroDivisionError" not in response.get_data(as_text=True) and "log" in detail


def test_a_missing_model_points_to_the_readme(tmp_path):
    with pytest.raises(ModelNotFound, match=r"README\.md, 'Your own model'"):
        ReviewModel(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"model_name": NAME, "labels": LABELS}))
    with pytest.raises(ModelNotFound, match="no SavedModel version folder"):
        ReviewModel(tmp_path)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=60))
def test_any_text_is_classified_or_rejected_with_a_reason(client, text):
    """Hypothesis found the texts with no words (":", "!?"): the model's mean over zero words was NaN,
    which the API sent as (invalid) JSON. Now every answer is a probability or a reason."""
    response = client.post("/v1/predict", data=json.dumps({"text": text}), content_type="application/json")
    if response.status_code == 200:
        probabilities = response.get_json()["probabilities"]
        assert sum(probabilities.values()) == pytest.approx(1, abs=1e-6)
    else:
        assert_problem(response, 422)
    has_ascii_word = any(c.isascii() and c.isalnum() for c in text)
    if has_ascii_word and not any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        assert response.status_code == 200


@pytest.mark.parametrize("text", [":", "!!! ???", "(\"',.'\")", "... -- ;;"])
def test_text_without_words_is_a_422(client, text):
    assert "no words" in assert_problem(post(client, "/v1/predict", {"text": text}), 422)
    batch = post(client, "/v1/predict/batch", {"texts": ["fine words", text]})
    assert "texts[1] has no words" in assert_problem(batch, 422)


def no_links(text):
    return "contains a link; send the review without it" if "http" in text else None


def test_a_rule_of_your_own_refuses_with_a_422_that_names_the_review(model):
    client = review_api.create_app(model, rules=[no_links]).test_client()
    detail = assert_problem(post(client, "/v1/predict", {"text": "Cheap at http://spam.example"}), 422)
    assert detail == "the field 'text' contains a link; send the review without it"
    batch = post(client, "/v1/predict/batch", {"texts": ["Lovely tea.", "http://spam.example"]})
    assert assert_problem(batch, 422) == "texts[1] contains a link; send the review without it"
    assert post(client, "/v1/predict", {"text": "Lovely tea."}).status_code == 200


def test_rules_see_only_texts_that_passed_the_built_in_checks(model):
    seen = []
    client = review_api.create_app(model, rules=[seen.append]).test_client()  # None: accepts everything
    for text in (42, "   ", "?!", "x" * (review_api.MAX_TEXT_CHARS + 1), "Lovely tea."):
        post(client, "/v1/predict", {"text": text})
    assert seen == ["Lovely tea."]


def test_a_model_that_breaks_the_contract_is_refused_with_one_clear_error(model_dir, tmp_path):
    shutil.copytree(model_dir, tmp_path, dirs_exist_ok=True)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    (tmp_path / "manifest.json").write_text(json.dumps({**manifest, "labels": ["bad", "good"]}))
    with pytest.raises(ModelNotFound, match="3 probabilities per text for the manifest's 2 labels"):
        ReviewModel(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({**manifest, "labels": ["same", "same"]}))
    with pytest.raises(ModelNotFound, match="two or more distinct labels"):
        ReviewModel(tmp_path)


def test_a_signature_with_other_names_is_refused(tmp_path):
    export(tmp_path, version=1, output="scores")
    says = r"an output `probabilities`.*it has: scores: float32 \[None, 3\]"
    with pytest.raises(ModelNotFound, match=says):
        ReviewModel(tmp_path)


def test_the_check_command_takes_a_model_dir_flag(model_dir, tmp_path, capsys):
    assert review_model.main(["--model-dir", str(model_dir)]) == 0
    assert f"ok: model '{NAME}' version 2" in capsys.readouterr().out
    assert review_model.main(["--model-dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith(f"error: no usable model manifest in {tmp_path}")
