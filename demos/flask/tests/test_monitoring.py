"""What the API tells its operators, through Flask's test client: /metrics counts every request by route
and status, predictions by label, refusals by reason, and names the model; the prediction log has one
line per prediction and never the text."""

from __future__ import annotations

import json
import shutil

import pytest
import review_api
from prometheus_client.parser import text_string_to_metric_families
from review_model import ReviewModel
from small_model import LABELS, NAME


@pytest.fixture(scope="module")
def model(model_dir):
    return ReviewModel(model_dir)


def samples(client) -> dict[tuple, float]:
    """/metrics as {(sample name, (label pairs...)): value}."""
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for s in family.samples
    }


def test_counts_equal_the_requests_sent_by_route_status_label_and_reason(model, monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    client = review_api.create_app(model).test_client()
    answers = [client.post("/v1/predict", json={"text": t}).get_json() for t in ["great tea", "awful", "ok"]]
    batch = client.post("/v1/predict/batch", json={"texts": ["lovely", "broken and bad"]}).get_json()
    client.post("/v1/predict", json={"text": "   "})
    client.post("/v1/predict", json={"text": "!!!"})
    client.post("/v1/predict", data="not json", content_type="application/json")
    client.get("/no/such/page/123")
    metrics = samples(client)

    def requests(route, status):
        return metrics.get(("review_api_requests_total", (("route", route), ("status", status))), 0)

    assert requests("/v1/predict", "200") == 3
    assert requests("/v1/predict/batch", "200") == 1
    assert requests("/v1/predict", "422") == 2 and requests("/v1/predict", "400") == 1
    assert requests("unmatched", "404") == 1  # never the raw path: one series however many paths
    labels = [a["label"] for a in answers] + [p["label"] for p in batch["predictions"]]
    for label in LABELS:
        assert metrics.get(("review_api_predictions_total", (("label", label),)), 0) == labels.count(label)
    for reason, count in {"empty": 1, "no_words": 1, "invalid_json": 1, "http_404": 1}.items():
        assert metrics[("review_api_refusals_total", (("reason", reason),))] == count
    assert metrics[("review_api_model_info", (("name", NAME), ("version", "2")))] == 1
    histogram = ("review_api_request_duration_seconds_count", (("route", "/v1/predict"),))
    assert metrics[histogram] == 6


def test_a_new_app_starts_from_zero(model, monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    client = review_api.create_app(model).test_client()
    client.post("/v1/predict", json={"text": "great tea"})
    metrics = samples(client)
    assert metrics[("review_api_requests_total", (("route", "/v1/predict"), ("status", "200")))] == 1


def test_the_expected_label_share_comes_from_the_test_confusion_matrix():
    matrix = [[6, 2, 0], [1, 3, 0], [0, 0, 8]]  # rows true, columns predicted
    share = review_api.expected_label_share(matrix, ("a", "b", "c"))
    assert share == pytest.approx({"a": 7 / 20, "b": 5 / 20, "c": 8 / 20})
    assert review_api.expected_label_share((), ("a", "b")) == {}


def test_the_prediction_log_has_one_line_per_prediction_and_no_text(model, monkeypatch, tmp_path):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.setenv("PREDICTION_LOG_DIR", str(tmp_path / "log"))
    client = review_api.create_app(model).test_client()
    secret = "my name is Ada Lovelace and this tea is lovely"
    client.post("/v1/predict", json={"text": secret})
    client.post("/v1/predict/batch", json={"texts": ["great tea", secret]})
    client.post("/v1/predict", json={"text": ""})  # refused: not a prediction, not logged
    files = list((tmp_path / "log").glob("predictions-*.jsonl"))
    assert len(files) == 1
    text = files[0].read_text()
    records = [json.loads(line) for line in text.splitlines()]
    assert len(records) == 3 and "Lovelace" not in text
    first = records[0]
    assert set(first) == {"time", "model", "version", "text_chars", "text_hash", "label", "top_probability"}
    assert (first["model"], first["version"], first["text_chars"]) == (NAME, 2, len(secret))
    assert first["label"] in LABELS and 1 / len(LABELS) <= first["top_probability"] <= 1
    assert records[2]["text_hash"] == first["text_hash"] != records[1]["text_hash"]  # repeats countable


def test_a_key_makes_the_hash_one_an_outsider_cannot_recompute(model, monkeypatch, tmp_path):
    import hashlib

    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.setenv("PREDICTION_LOG_DIR", str(tmp_path))
    monkeypatch.setenv("PREDICTION_LOG_KEY", "a secret of the operator's")
    review_api.create_app(model).test_client().post("/v1/predict", json={"text": "great"})
    record = json.loads(next(tmp_path.glob("*.jsonl")).read_text())
    assert record["text_hash"] != hashlib.sha256(b"great").hexdigest()[:32]


def test_the_log_rotates_at_its_size_limit(model, monkeypatch, tmp_path):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.setenv("PREDICTION_LOG_DIR", str(tmp_path))
    monkeypatch.setenv("PREDICTION_LOG_MAX_BYTES", "1000")
    monkeypatch.setenv("PREDICTION_LOG_BACKUPS", "2")
    client = review_api.create_app(model).test_client()
    for _ in range(10):
        client.post("/v1/predict/batch", json={"texts": ["great tea"] * 5})
    files = sorted(tmp_path.iterdir())
    assert len(files) == 3  # the current file and two old ones: older lines are gone
    assert all(f.stat().st_size <= 1000 for f in files)


def test_metrics_state_the_label_mix_of_the_test_split_from_the_manifest(model_dir, tmp_path, monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    shutil.copytree(model_dir, tmp_path / "model")
    manifest = json.loads((tmp_path / "model" / "manifest.json").read_text())
    manifest["metrics"]["test"]["confusion_matrix"] = [[2, 1, 0], [0, 3, 0], [0, 1, 3]]
    (tmp_path / "model" / "manifest.json").write_text(json.dumps(manifest))
    metrics = samples(review_api.create_app(ReviewModel(tmp_path / "model")).test_client())
    shares = {label: metrics[("review_api_expected_label_share", (("label", label),))] for label in LABELS}
    assert shares == pytest.approx(dict(zip(LABELS, [0.2, 0.5, 0.3], strict=True)))
