"""Prometheus metrics for the development server (with prometheus_client).

The metric names are the development server's own (`tfserving_devserver_...`): they are not TF Serving's
`:tensorflow:serving:...` metrics, only the scrape path and format are the same.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self):
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "tfserving_devserver_requests",
            "Requests by API and status",
            ["api", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "tfserving_devserver_request_latency_seconds",
            "Request latency by API",
            ["api"],
            registry=self.registry,
        )

    def observe(self, api: str, status, seconds: float) -> None:
        self.requests.labels(api, str(status)).inc()
        self.latency.labels(api).observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
