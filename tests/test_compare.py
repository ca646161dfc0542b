"""The benchmark harness in quick mode: a well-formed report covering every runtime, and the parity matrix."""

import json

import numpy as np
import psutil
import pytest

from nowwhat.compare import bench
from nowwhat.tflite.convert import TOLERANCES

#: In the report's row order (the harness measures TF Serving last but reports it in this place).
RUNTIMES = (
    "keras",
    "savedmodel",
    "flask-naive",
    "flask-production",
    "tf-serving-rest",
    "tf-serving-grpc",
    "mlflow",
    "mlserver",
    "mlserver-batched",
    "tflite-float32",
    "tflite-float16",
    "tflite-dynamic",
    "tflite-int8",
    "onnx",
    "tfjs-cpu",
    "tfjs-webgl",
)
SERVERS = {"flask-naive", "flask-production", "tf-serving-rest", "tf-serving-grpc", "mlflow", "mlserver",
           "mlserver-batched"}  # fmt: skip
#: The talk's other options, today: each gives Keras' float32 probabilities.
OTHER_OPTIONS = ("mlflow", "mlserver", "mlserver-batched", "onnx")


@pytest.fixture(scope="module")
def report(tmp_path_factory, exports):
    out = tmp_path_factory.mktemp("compare")
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    result = bench.run(quick=True, out=out)
    result["_out"] = out
    result["_leftover"] = [p for p in psutil.Process().children(recursive=True) if p.pid not in before]
    return result


@pytest.mark.slow
def test_every_runtime_is_measured(report):
    rows = {row["runtime"]: row for row in report["results"]}
    assert [row["runtime"] for row in report["results"]] == list(RUNTIMES)
    for name, row in rows.items():
        assert row["cold_start_s"] > 0 and 0 < row["latency_p50_ms"] <= row["latency_p99_ms"], name
        assert row["size_bytes"] > 100_000 and row["peak_memory_mib"] > 0, name
        assert 0.5 < row["accuracy"] <= 1, name
        assert (row["throughput_rps_c8"] is not None) == (name in SERVERS), name
    for name in SERVERS:
        assert rows[name]["throughput_rps_c8"] > 0 and rows[name]["throughput_errors"] == 0


@pytest.mark.slow
def test_stand_in_server_is_labelled(report):
    for row in report["results"]:
        if row["runtime"].startswith("tf-serving") and "DEVELOPMENT" in row["how"]:
            assert "not the real" in row["note"]


@pytest.mark.slow
def test_parity_matrix_float32_pairs_agree(report):
    parity = report["parity"]
    assert set(parity) == set(RUNTIMES) and all(set(row) == set(RUNTIMES) for row in parity.values())
    for a in bench.FLOAT32:
        for b in bench.FLOAT32:
            assert parity[a][b]["max_abs_diff"] <= 1e-4, (a, b)
            assert parity[a][b]["same_label"] == 1.0, (a, b)
    for level, tolerance in TOLERANCES.items():
        assert parity["keras"][f"tflite-{level}"]["max_abs_diff"] <= tolerance
    for name in OTHER_OPTIONS:
        assert parity["keras"][name]["max_abs_diff"] <= 1e-5, name


@pytest.mark.slow
def test_the_other_options_name_what_they_served(report):
    rows = {row["runtime"]: row for row in report["results"]}
    assert rows["mlflow"]["served"] == {"model": "models:/reviews/1"}
    assert rows["mlserver-batched"]["served"] == {"model": "reviews-batched (ONNX bundle)"}
    assert "adaptive batching on" in rows["mlserver-batched"]["how"] and "off" in rows["mlserver"]["how"]
    assert any(line.startswith("MLServer's adaptive batching") for line in bench.highlights(report))


@pytest.mark.slow
def test_report_files_and_clean_up(report):
    out = report["_out"]
    assert json.loads((out / "results.json").read_text())["mode"] == "quick"
    assert (out / "results.md").read_text().count("\n") >= len(RUNTIMES) + 1
    assert (out / "latency_cold_start.png").stat().st_size > 10_000 and (out / "parity.png").exists()
    with np.load(out / "probabilities.npz") as saved:
        assert set(saved.files) == set(RUNTIMES)
        assert all(saved[name].shape == (bench.SETTINGS["quick"]["reviews"], 2) for name in RUNTIMES)
    assert not [p for p in report["_leftover"] if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


@pytest.mark.slow
def test_unknown_runtime_is_a_one_line_error(capsys, exports):
    assert bench.main(["--quick", "--only", "teleport"]) == 2
    assert "unknown runtime 'teleport'" in capsys.readouterr().err


@pytest.mark.slow
def test_every_server_is_asked_for_version_1_and_answers_with_it(report):
    """TF Serving loads the canary (v2) too, and a request without a version would get it: the harness
    asks for version 1 by number, the model the Flask API serves, and records what answered."""
    rows = {row["runtime"]: row for row in report["results"]}
    for name in ("savedmodel", "flask-production", "tf-serving-rest", "tf-serving-grpc"):
        assert rows[name]["served"]["version"] == 1, name
    for name in ("tf-serving-rest", "tf-serving-grpc"):
        assert rows[name]["served"]["asked_for"] == 1 and 2 in rows[name]["served"]["loaded"], name
    assert rows["flask-production"]["served"]["workers"] >= 1
    assert "tf-serving-grpc v1 of 1, 2 loaded" in bench.versions(report)


def test_tf_serving_predictors_name_the_version(monkeypatch):
    from types import SimpleNamespace

    from tfserving_demo import rest_client

    asked = []

    class FakeRest:
        def __init__(self, url, model):
            assert model == "reviews"

        def probabilities(self, batch, **kwargs):
            asked.append(kwargs)
            return [[0.25, 0.75]]

    monkeypatch.setattr(rest_client, "RestClient", FakeRest)
    server = SimpleNamespace(rest_url="http://127.0.0.1:1", model="reviews")
    assert bench.rest_predictor(server)(["x"]) == [0.25, 0.75]
    assert asked == [{"version": 1}]


def _row(runtime, p50, rps=None, size=1_000_000, memory=100.0, cold=1.0, accuracy=0.8, **extra):
    return {
        "runtime": runtime,
        "latency_p50_ms": p50,
        "throughput_rps_c8": rps,
        "size_bytes": size,
        "peak_memory_mib": memory,
        "cold_start_s": cold,
        "accuracy": accuracy,
        "note": "",
        **extra,
    }


V1 = {"version": 1}
REPORT = {
    "concurrency": 8,
    "results": [
        _row("keras", 6.0, size=4_260_000, cold=4.2, served={"model": "classifier.keras"}),
        _row("flask-naive", 60.0, rps=25.0, memory=700.0, cold=3.8, served={"model": "classifier.keras"}),
        _row("flask-production", 1.5, rps=750.0, memory=1400.0, cold=3.7, served=V1 | {"workers": 2}),
        _row("tf-serving-grpc", 1.8, rps=700.0, cold=4.1, served=V1 | {"asked_for": 1, "loaded": [1, 2]}),
        _row("tflite-float32", 0.06, size=1_280_000, cold=0.35),
        _row("tflite-dynamic", 0.07, size=320_000, cold=0.37, accuracy=0.81),
    ],
}


def test_highlights_compute_the_orders_of_magnitude_and_explain_the_flask_ratio():
    lines = bench.highlights(REPORT)
    assert lines[0] == (
        "Per review, tflite-float32 is fastest (0.060 ms at p50) and flask-naive slowest (60.0 ms): "
        "1,000× apart for the same model, about 3 orders of magnitude (in process vs over HTTP, one review "
        "at a time)."
    )
    assert lines[1].startswith(
        "The production Flask app (gunicorn, 2 workers, the SavedModel's signature) "
        "answers 30× the requests of the naive 2019 app"
    )
    assert "when 8 clients send one review each (750 vs 25 req/s)" in lines[1]
    assert "One request at a time it is already 40× faster (p50 1.50 vs 60.0 ms)" in lines[1]
    assert "makes the LiteRT file 4.0× smaller (1.28 → 0.32 MB), accuracy 0.800 → 0.810" in lines[2]
    assert lines[-1].endswith(
        "every runtime that loads TensorFlow took 3.70 s or more, LiteRT's client 0.37 s or less, "
        "which matters for "
        "scale-to-zero and serverless."
    )


def test_versions_name_what_each_server_answered_with():
    assert bench.versions(REPORT) == (
        "Model compared: keras classifier.keras; flask-naive classifier.keras; flask-production v1; "
        "tf-serving-grpc v1 of 1, 2 loaded."
    )
