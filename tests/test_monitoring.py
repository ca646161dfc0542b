"""Chapter 07 for real: a real Prometheus scrapes the workshop's API, its p99 from the histogram agrees
with the client's own, and the drift check tells the shifted sample from the held-out one on the model's
real answers, whichever name each sample is given."""

from __future__ import annotations

import bisect
import json

import numpy as np
import pytest

from nowwhat.data import TEXT
from nowwhat.flask_api.server import Server
from nowwhat.monitoring import samples, traffic
from nowwhat.monitoring.prometheus import Prometheus, config
from nowwhat.paths import REPO_ROOT, demo_script, tokenizer_dir

drift = demo_script("monitoring", "drift")
review_monitoring = demo_script("flask", "review_monitoring")


@pytest.fixture(scope="module")
def watched(exports, tmp_path_factory):
    """The API (one worker, prediction log on) scraped by Prometheus every second, with every sample
    sent through it, each in a window of the log: (prometheus, sent, windows, log folder)."""
    from datetime import UTC, datetime

    log = tmp_path_factory.mktemp("prediction-log")
    data = samples.samples()
    api = Server("production", env={"WEB_CONCURRENCY": "1", "PREDICTION_LOG_DIR": str(log)})
    with api, Prometheus({"review-api": api.url.removeprefix("http://")}) as prometheus:
        prometheus.wait_for('up{job="review-api"}', lambda up: up == 1)
        sent, windows = {}, {}
        for name, frame in data.items():
            begin = datetime.now(UTC).isoformat(timespec="milliseconds")
            sent[name] = traffic.send(api.url, frame[TEXT].tolist(), clients=1, bad_every=25)
            windows[name] = (begin, datetime.now(UTC).isoformat(timespec="milliseconds"))
        total = sum(len(answers) for answers in sent.values())
        prometheus.wait_for('sum(review_api_requests_total{route="/v1/predict"})', lambda n: n >= total)
        yield prometheus, data, sent, windows, log


@pytest.mark.slow
def test_prometheus_counts_every_request_by_status_and_label(watched):
    prometheus, _, sent, _, _ = watched
    answers = [a for batch in sent.values() for a in batch]
    by_status = {r["metric"]["status"]: r["value"] for r in prometheus.query(
        'sum by (status) (review_api_requests_total{route="/v1/predict"})'
    )}  # fmt: skip
    assert by_status == {
        str(s): float(sum(a["status"] == s for a in answers)) for s in {a["status"] for a in answers}
    }
    by_label = {r["metric"]["label"]: r["value"] for r in prometheus.query(
        "sum by (label) (review_api_predictions_total)"
    )}  # fmt: skip
    labels = [a["label"] for a in answers if a["label"]]
    assert by_label == {label: float(labels.count(label)) for label in set(labels)}


@pytest.mark.slow
def test_the_p99_from_the_histogram_is_within_one_bucket_of_the_measured_one(watched):
    """Prometheus' histogram_quantile against the exact p99 of the durations the API reported to the client
    (its Server-Timing header: the same number the histogram counted). The client's own clock also
    counts the HTTP round trip, which the server never sees: its p99 can only be larger."""
    prometheus, _, sent, _, _ = watched
    answered = [a for batch in sent.values() for a in batch if a["status"] == 200]
    measured = float(np.percentile([a["server_seconds"] for a in answered], 99))
    estimated = prometheus.value(
        "histogram_quantile(0.99, sum by (le) "
        '(increase(review_api_request_duration_seconds_bucket{route="/v1/predict"}[10m])))'
    )
    buckets = review_monitoring.LATENCY_BUCKETS
    assert abs(bisect.bisect_left(buckets, measured) - bisect.bisect_left(buckets, estimated)) <= 1
    assert estimated <= float(np.percentile([a["seconds"] for a in answered], 99))


@pytest.mark.slow
def test_the_drift_check_flags_the_shifted_sample_and_not_the_held_out_one(watched):
    _, data, _, windows, log = watched
    spec = json.loads((tokenizer_dir() / "tokenizer.json").read_text())
    features = {
        name: {**drift.read_log(log, *windows[name]), **drift.text_features(data[name][TEXT].tolist(), spec)}
        for name in data
    }
    assert len(features["shifted"]["label"]) == len(data["shifted"])  # one log line per answered review
    held_out = drift.compare(features["reference"], features["held-out"])
    shifted = drift.compare(features["reference"], features["shifted"])
    assert held_out["drifted"] == [] and shifted["drifted"], (drift.table(held_out), drift.table(shifted))
    # Swapped: the sample called "held-out" is now the pet reviews. The verdicts follow the data.
    swapped = {"held-out": features["shifted"], "shifted": features["held-out"]}
    assert drift.compare(features["reference"], swapped["held-out"])["drifted"] == shifted["drifted"]
    assert drift.compare(features["reference"], swapped["shifted"])["drifted"] == []


def test_the_shifted_sample_is_the_pet_product_group_of_the_test_split():
    data = samples.samples()
    assert samples.is_pet_review(data["shifted"][TEXT]).all()
    assert not samples.is_pet_review(data["held-out"][TEXT]).any()
    assert len(data["shifted"]) + len(data["held-out"]) == 1000
    assert set(data["reference"][TEXT]).isdisjoint(data["shifted"][TEXT])


def test_the_config_scrapes_the_given_targets_with_the_demo_s_rules():
    document = config({"review-api": "127.0.0.1:5000", "other": "127.0.0.1:6000/a/path"}, interval="2s")
    assert document["global"] == {"scrape_interval": "2s", "evaluation_interval": "2s"}
    assert [job["job_name"] for job in document["scrape_configs"]] == ["review-api", "other"]
    assert document["scrape_configs"][0]["metrics_path"] == "/metrics"  # the demo's own, for the API
    assert document["scrape_configs"][1]["static_configs"] == [{"targets": ["127.0.0.1:6000"]}]
    assert document["scrape_configs"][1]["metrics_path"] == "/a/path"
    assert document["rule_files"] == [
        str(REPO_ROOT / "demos" / "monitoring" / "rules" / "review_api.rules.yml")
    ]


def test_traffic_goes_to_loopback_only():
    with pytest.raises(ValueError, match="loopback only"):
        traffic.send("http://example.com:80", ["great"])


@pytest.mark.slow
def test_a_bad_query_is_an_error_that_quotes_prometheus(tmp_path):
    from nowwhat.errors import NowWhatError

    with (
        Prometheus({"nothing": "127.0.0.1:9"}) as prometheus,
        pytest.raises(NowWhatError, match="parse error"),
    ):
        prometheus.query("sum(rate(")


@pytest.mark.slow
def test_prometheus_scrapes_the_model_server_at_the_path_its_monitoring_config_names(exports, tmp_path):
    """Chapter 07's last section: the TF Serving stand-in, started with config/monitoring.config, is added
    to a running Prometheus as one more job, and its counts are the requests sent to it."""
    import requests

    from nowwhat import processes
    from nowwhat.monitoring.model_server import start_tf_serving_stand_in

    process, log, url = start_tf_serving_stand_in(tmp_path)
    try:
        with Prometheus({"nothing": "127.0.0.1:9"}) as prometheus:
            prometheus.scrape("tf-serving", url.removeprefix("http://") + "/monitoring/prometheus/metrics")
            for _ in range(3):
                answer = requests.post(f"{url}/v1/models/reviews:predict", json={"instances": ["great"]})
                assert answer.status_code == 200
            refused = requests.post(f"{url}/v1/models/reviews:predict", json={"instances": "not a list"})
            assert refused.status_code == 400
            # Not the readiness probes (api="status"); a refused request is "other", it never was a predict.
            counts = 'sum by (api, status) (tfserving_devserver_requests_total{api=~"predict|other"})'
            prometheus.wait_for(f"sum({counts})", lambda n: n == 4)
            found = {
                (s["metric"]["api"], s["metric"]["status"]): s["value"] for s in prometheus.query(counts)
            }
            assert found == {("predict", "200"): 3.0, ("other", "400"): 1.0}
            assert prometheus.targets_up() == {"nothing": False, "tf-serving": True}
    finally:
        processes.stop(process, 30)
        log.close()
