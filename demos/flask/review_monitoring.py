"""What the review API tells its operators: Prometheus metrics at /metrics and a prediction log.

Metrics (prometheus_client). Under gunicorn every worker is its own process with its own counters, so
gunicorn.conf.py turns on prometheus_client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR: each worker
writes its values to files there, and /metrics, whichever worker answers it, adds them up):
- review_api_requests_total{route, status}        every request, by route template and status code
- review_api_request_duration_seconds{route}      a latency histogram (buckets for a millisecond model)
- review_api_predictions_total{label}             every prediction, by predicted label
- review_api_refusals_total{reason}               every refused request, by a short reason
- review_api_model_info{name, version}            1, naming the served model
- review_api_expected_label_share{label}          the label mix the model predicted on its test split
                                                  (from the manifest), what the drift alert compares with

Prediction log (PREDICTION_LOG_DIR; off when unset): one JSON line per prediction with the time, model
name and version, text length, label and top probability, and a hash in place of the text. The raw text
is left out on purpose: reviews hold names, addresses and health details, and a log is copied, kept and
read by far more people than the API. A hash still lets you count repeats; since a short text can be
guessed by hashing candidates, set PREDICTION_LOG_KEY to make it a keyed hash (HMAC-SHA256). Each worker
writes its own file (predictions-<pid>.jsonl), rotated at PREDICTION_LOG_MAX_BYTES (10 MB) with
PREDICTION_LOG_BACKUPS (5) old files kept: at most 60 MB per worker.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import logging.handlers
import os
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST as METRICS_CONTENT_TYPE
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess

#: Seconds. The model answers in about a millisecond; the buckets resolve 1 to 100 ms finely.
LATENCY_BUCKETS = (0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 1)

__all__ = ["METRICS_CONTENT_TYPE", "Metrics", "PredictionLog"]


class Metrics:
    """The API's metrics. Each app gets a registry of its own (tests build several apps in one process);
    in multiprocess mode the values live in PROMETHEUS_MULTIPROC_DIR and /metrics reads them from there."""

    def __init__(self, name: str, version: int, expected_share: dict[str, float]):
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        own = None if self.multiprocess else CollectorRegistry()
        self.registry = own
        self.requests = Counter(
            "review_api_requests",
            "Requests answered, by route and status.",
            ["route", "status"],
            registry=own,
        )
        self.latency = Histogram(
            "review_api_request_duration_seconds", "Time to answer a request, by route.", ["route"],
            buckets=LATENCY_BUCKETS, registry=own,
        )  # fmt: skip
        self.predictions = Counter(
            "review_api_predictions", "Predictions made, by predicted label.", ["label"], registry=own
        )
        self.refusals = Counter(
            "review_api_refusals", "Requests refused (4xx), by reason.", ["reason"], registry=own
        )
        info = Gauge(
            "review_api_model_info", "The served model (always 1).", ["name", "version"],
            registry=own, multiprocess_mode="max",
        )  # fmt: skip
        info.labels(name=name, version=str(version)).set(1)
        share = Gauge(
            "review_api_expected_label_share", "Share of each label the model predicted on its test split.",
            ["label"], registry=own, multiprocess_mode="max",
        )  # fmt: skip
        for label, value in expected_share.items():
            share.labels(label=label).set(value)

    def observe(self, route: str, status: int, seconds: float) -> None:
        self.requests.labels(route=route, status=str(status)).inc()
        self.latency.labels(route=route).observe(seconds)

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes: this process's values, or every worker's added up."""
        if self.multiprocess:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)


def expected_label_share(matrix, labels: tuple[str, ...]) -> dict[str, float]:
    """Each label's share of the model's predictions on its test split: the column sums of the test
    confusion matrix (rows true, columns predicted). Empty when the manifest has no confusion matrix."""
    if not matrix or len(matrix[0]) != len(labels):
        return {}
    predicted = [sum(row[i] for row in matrix) for i in range(len(labels))]
    total = sum(predicted) or 1
    return {label: count / total for label, count in zip(labels, predicted, strict=True)}


class PredictionLog:
    """One JSON line per prediction, in this process's own rotating file under `folder`."""

    def __init__(self, folder: Path, name: str, version: int):
        folder.mkdir(parents=True, exist_ok=True)
        self.model = {"model": name, "version": version}
        key = os.environ.get("PREDICTION_LOG_KEY", "")
        self.key = key.encode() if key else None
        handler = logging.handlers.RotatingFileHandler(
            folder / f"predictions-{os.getpid()}.jsonl",
            maxBytes=int(os.environ.get("PREDICTION_LOG_MAX_BYTES", 10_000_000)),
            backupCount=int(os.environ.get("PREDICTION_LOG_BACKUPS", 5)),
            encoding="utf-8",
        )
        handler.setFormatter(logging.Formatter("%(message)s"))
        self.logger = logging.getLogger(f"review_api.predictions.{id(self)}")
        self.logger.propagate = False
        self.logger.setLevel(logging.INFO)
        self.logger.addHandler(handler)

    @classmethod
    def from_environment(cls, name: str, version: int) -> PredictionLog | None:
        folder = os.environ.get("PREDICTION_LOG_DIR")
        return cls(Path(folder), name, version) if folder else None

    def text_hash(self, text: str) -> str:
        data = text.encode("utf-8")
        if self.key:
            return hmac.new(self.key, data, hashlib.sha256).hexdigest()[:32]
        return hashlib.sha256(data).hexdigest()[:32]

    def write(self, texts: list[str], predictions: list[dict]) -> None:
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        for text, prediction in zip(texts, predictions, strict=True):
            record = {
                "time": now,
                **self.model,
                "text_chars": len(text),
                "text_hash": self.text_hash(text),
                "label": prediction["label"],
                "top_probability": round(max(prediction["probabilities"].values()), 6),
            }
            self.logger.info(json.dumps(record, ensure_ascii=False))
