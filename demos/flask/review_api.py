"""The production prediction API: a Flask application factory, served by gunicorn (gunicorn.conf.py).

What makes it different from the 2019 ten-liner (naive_2019_app.py):
- the model is loaded once per worker, before the worker takes its first request, and called through
  its SavedModel signature (no `model.predict` per request);
- one JSON contract for everything, errors included (RFC 9457 problem details: status, title, detail),
  described by openapi.json, which the app also serves;
- every input is checked before it reaches the model; limits are documented and enforced;
- no stack trace ever reaches a client, and debug mode is off whatever the environment says.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from flask import Flask, Response, g, jsonify, request
from review_model import ReviewModel, has_words
from review_monitoring import METRICS_CONTENT_TYPE, Metrics, PredictionLog, expected_label_share
from werkzeug.exceptions import HTTPException

#: Documented limits (openapi.json states the same numbers; a test keeps them equal).
MAX_TEXT_CHARS = 10_000
MAX_BATCH = 64
MAX_BODY_BYTES = 1_048_576
OPENAPI = Path(__file__).with_name("openapi.json")

log = logging.getLogger("review_api")

#: An input rule of your own, for `create_app(rules=[...])`: it gets a review's text once the built-in
#: checks passed, and returns None to accept it or the end of a sentence that starts with the field's name
#: to refuse it: "has 301 words; the limit is 300" → 422 "the field 'text' has 301 words; the limit is 300".
Rule = Callable[[str], str | None]


class InvalidInput(Exception):
    """A request the API refuses: JSON that breaks the contract (422), a body that is not JSON (400) or
    is not declared as JSON (415). `reason` is the short name /metrics counts it under."""

    def __init__(self, detail: str, reason: str, status: int = 422):
        super().__init__(detail)
        self.detail, self.reason, self.status = detail, reason, status


def problem(status: int, title: str, detail: str, headers: dict | None = None) -> Response:
    """An RFC 9457 problem details response: the one shape every error of this API has."""
    response = jsonify({"type": "about:blank", "title": title, "status": status, "detail": detail})
    response.status_code = status
    response.mimetype = "application/problem+json"
    response.headers.update(headers or {})
    return response


def json_body(fields: dict[str, type]) -> dict:
    """The request's JSON object, which must hold exactly `fields` with the given types."""
    if not request.is_json:
        raise InvalidInput(
            "send the body as JSON with the header Content-Type: application/json", "not_json", 415
        )
    try:
        body = json.loads(body_bytes())
    except (ValueError, RecursionError) as exc:
        raise InvalidInput(f"the body is not valid JSON ({str(exc)[:120]})", "invalid_json", 400) from None
    if not isinstance(body, dict):
        example = ", ".join(f'"{name}": ...' for name in fields)
        raise InvalidInput(f"the body must be a JSON object like {{{example}}}", "not_an_object")
    for name, kind in fields.items():
        if name not in body:
            raise InvalidInput(f"the field {name!r} is missing", "missing_field")
        if not isinstance(body[name], kind):
            raise InvalidInput(f"the field {name!r} must be a {_json_type(kind)}", "wrong_type")
    if unknown := sorted(set(body) - set(fields)):
        raise InvalidInput(
            f"unknown field(s) {', '.join(map(repr, unknown))}; expected only {list(fields)}", "unknown_field"
        )
    return body


def body_bytes() -> bytes:
    """The raw body. Werkzeug refuses a Content-Length over the limit up front (413), but cuts a streamed
    (chunked) body silently at the limit; reading past the limit raises the 413 instead. (A streamed body
    of exactly the limit is refused too: the stream cannot tell it from a longer one.)"""
    data = request.stream.read()
    if request.content_length is None and len(data) >= MAX_BODY_BYTES:
        request.stream.read(1)
    return data


def checked_text(text, where: str, rules: Iterable[Rule] = ()) -> str:
    if not isinstance(text, str):
        raise InvalidInput(f"{where} must be a string", "wrong_type")
    if not text.strip():
        raise InvalidInput(f"{where} is empty: send the review's text", "empty")
    if not has_words(text):  # the model would answer with its prior: refused by choice
        raise InvalidInput(
            f"{where} has no words the model can read (only punctuation or symbols)", "no_words"
        )
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidInput(
            f"{where} has {len(text):,} characters; the limit is {MAX_TEXT_CHARS:,}", "too_long"
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(
            f"{where} contains an unpaired UTF-16 surrogate (\\ud800-\\udfff)", "not_utf8"
        ) from None
    for rule in rules:
        if reason := rule(text):
            raise InvalidInput(f"{where} {reason}", "own_rule")
    return text


def openapi_for(labels: tuple[str, ...]) -> dict:
    """openapi.json with the served model's labels in its schemas (the file lists the workshop's)."""
    document = json.loads(OPENAPI.read_text())
    schemas = document["components"]["schemas"]
    schemas["Label"]["enum"] = list(labels)
    probability = next(iter(schemas["Probabilities"]["properties"].values()))  # the same for every label
    schemas["Probabilities"].update(required=list(labels), properties=dict.fromkeys(labels, probability))
    return document


def _json_type(kind: type) -> str:
    return {str: "string", list: "list (JSON array)"}[kind]


def create_app(
    model: ReviewModel | None = None, model_dir: Path | None = None, rules: Iterable[Rule] = ()
) -> Flask:
    """Build the app around a loaded model (loaded here, once, if not given); `rules` are input checks of
    your own (see `Rule`), run on every review after the built-in ones."""
    model = model or ReviewModel(model_dir)
    rules = tuple(rules)
    app = Flask(__name__)
    app.config.update(DEBUG=False, PROPAGATE_EXCEPTIONS=False, MAX_CONTENT_LENGTH=MAX_BODY_BYTES)
    app.debug = False  # never the interactive debugger, whatever FLASK_DEBUG says
    info = model.info
    served = {"name": info.name, "version": info.version}
    openapi = openapi_for(info.labels)
    metrics = Metrics(info.name, info.version, expected_label_share(info.test_confusion_matrix, info.labels))
    prediction_log = PredictionLog.from_environment(info.name, info.version)

    def predicted(texts: list[str]) -> list[dict]:
        """The model's answers, counted by label and written to the prediction log (when it is on)."""
        predictions = model.predict(texts)
        for prediction in predictions:
            metrics.predictions.labels(label=prediction["label"]).inc()
        if prediction_log:
            prediction_log.write(texts, predictions)
        return predictions

    @app.post("/v1/predict")
    def predict():
        text = checked_text(json_body({"text": str})["text"], "the field 'text'", rules)
        return {**predicted([text])[0], "model": served}

    @app.post("/v1/predict/batch")
    def predict_batch():
        texts = json_body({"texts": list})["texts"]
        if not 1 <= len(texts) <= MAX_BATCH:
            raise InvalidInput(
                f"'texts' holds {len(texts)} reviews; send between 1 and {MAX_BATCH}", "batch_size"
            )
        texts = [checked_text(text, f"texts[{i}]", rules) for i, text in enumerate(texts)]
        return {"predictions": predicted(texts), "model": served}

    @app.get("/v1/metadata")
    def metadata():
        return {
            "model": {**served, "labels": list(info.labels), "test_metrics": info.test_metrics},
            "signature": model.describe_signature(),
            "limits": {
                "max_text_chars": MAX_TEXT_CHARS,
                "max_batch_size": MAX_BATCH,
                "max_body_bytes": MAX_BODY_BYTES,
            },
        }

    @app.get("/health/live")
    def live():
        return {"status": "alive"}

    @app.get("/health/ready")
    def ready():
        # This worker only takes requests once create_app returned, i.e. with its model loaded and warm.
        return {"status": "ready", "model": served}

    @app.get("/openapi.json")
    def openapi_document():
        return openapi

    @app.get("/metrics")
    def metrics_page():
        return Response(metrics.exposition(), mimetype=METRICS_CONTENT_TYPE)

    @app.errorhandler(InvalidInput)
    def invalid_input(exc: InvalidInput):
        titles = {400: "Bad Request", 415: "Unsupported Media Type", 422: "Unprocessable Content"}
        metrics.refusals.labels(reason=exc.reason).inc()
        return problem(exc.status, titles[exc.status], exc.detail)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
        details = {413: f"the body is over the limit of {MAX_BODY_BYTES:,} bytes"}
        if exc.code < 500:
            metrics.refusals.labels(reason={413: "too_large"}.get(exc.code, f"http_{exc.code}")).inc()
        return problem(exc.code, exc.name, details.get(exc.code, exc.description), headers)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.path)
        return problem(500, "Internal Server Error", "the server failed to answer; the error is in its log")

    @app.before_request
    def start_clock():
        g.started = time.perf_counter()

    @app.after_request
    def no_sniffing_and_counted(response: Response):
        response.headers["X-Content-Type-Options"] = "nosniff"
        # The route's template, never the raw path: a client sending random paths must not create a time
        # series per path in Prometheus.
        route = request.url_rule.rule if request.url_rule else "unmatched"
        seconds = time.perf_counter() - g.get("started", time.perf_counter())
        metrics.observe(route, response.status_code, seconds)
        # The same duration for the client (W3C Server-Timing): what the histogram counted, per request.
        response.headers["Server-Timing"] = f"app;dur={seconds * 1000:.3f}"
        return response

    return app
