"""TF Serving's REST API (documented in `g3doc/api/api_rest.md`) as a Flask app.

URLs are matched with the same regular expressions as TF Serving's `http_rest_api_util.cc`, so
`/v1/models/reviews/labels/canary:predict` and friends behave alike; every error is `{"error": ...}`
with the HTTP status TF Serving maps its status code to, and no request can produce a stack trace.
"""

from __future__ import annotations

import logging
import re
import time

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from . import SERVED_BY, SERVED_BY_HEADER
from .errors import ServingError, invalid
from .metrics import Metrics
from .models import Manager
from .service import metadata_json, metadata_response, status_json, status_response
from .tensors import inputs_from_json, outputs_to_json, parse_json_body, signature_name_of

log = logging.getLogger("devserver")

PREDICTION = re.compile(
    r"/v1/models/([^/:]+)(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?:(classify|regress|predict)", re.I
)
STATUS = re.compile(
    r"/v1/models(?:/([^/:]+))?(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?(?:/(metadata))?", re.I
)
#: A request body larger than this gets 413 instead of being read into memory.
MAX_BODY_BYTES = 64 * 1024 * 1024


def create_app(manager: Manager, metrics: Metrics, prometheus_path: str | None = None) -> Flask:
    app = Flask("devserver")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES

    @app.route("/v1/", defaults={"rest": ""}, methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    @app.route("/v1/<path:rest>", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    def api(rest):
        start = time.perf_counter()
        api_name = "other"
        try:
            api_name, payload = dispatch(manager, request.method, request.path, request.get_data())
            status, body = 200, payload
        except ServingError as exc:
            status, body = exc.http_status, {"error": exc.message}
        metrics.observe(api_name, status, time.perf_counter() - start)
        return _json(body, status)

    if prometheus_path:

        @app.route(prometheus_path, methods=["GET"])
        def prometheus():
            return Response(metrics.exposition(), 200, {"Content-Type": metrics.content_type})

    @app.errorhandler(HTTPException)
    def http_error(exc):  # 404 outside /v1, 413 too large, 405 on the metrics path
        return _json({"error": f"{exc.name}: {exc.description}"}, exc.code)

    @app.errorhandler(Exception)
    def unexpected(exc):  # never a stack trace to the client; the log has it
        log.exception("unexpected error on %s %s", request.method, request.path)
        return _json({"error": f"internal error in the development server: {type(exc).__name__}"}, 500)

    @app.after_request
    def name_ourselves(response):
        response.headers[SERVED_BY_HEADER] = SERVED_BY
        return response

    return app


def _json(body: dict, status: int) -> Response:
    import json

    return Response(json.dumps(body, ensure_ascii=False), status, {"Content-Type": "application/json"})


def dispatch(manager: Manager, method: str, path: str, body: bytes) -> tuple[str, dict]:
    """(api name, JSON response) for one request, or ServingError with TF Serving's message."""
    malformed = invalid(f"Malformed request: {method} {path}")
    if method == "POST" and (match := PREDICTION.fullmatch(path)):
        name, version, label, verb = match.groups()
        if verb.lower() != "predict":
            raise invalid(
                f"{verb} needs a signature with method_name tensorflow/serving/{verb.lower()}; "
                "this model's signatures are predict signatures: use :predict"
            )
        return "predict", predict(manager, name, _version(version), label, body)
    if method == "GET" and (match := STATUS.fullmatch(path)):
        name, version, label, metadata = match.groups()
        if not name:
            raise invalid("Missing model name in request.")
        if metadata:
            return "metadata", metadata_json(metadata_response(manager, name, _version(version), label))
        return "status", status_json(status_response(manager, name, _version(version), label))
    raise malformed


def _version(text: str | None) -> int | None:
    if text is None:
        return None
    if len(text) > 18:
        raise invalid(f"Failed to convert version: {text} to numeric.")
    return int(text)


def predict(manager: Manager, name: str, version, label, body: bytes) -> dict:
    doc = parse_json_body(body)
    signature_name = signature_name_of(doc)
    servable = manager.resolve(name, version, label)
    fn = servable.signature(signature_name)
    arrays, request_format = inputs_from_json(doc, servable.input_specs(fn))
    return outputs_to_json(servable.run(fn, arrays), request_format)
