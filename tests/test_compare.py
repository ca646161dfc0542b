"""The benchmark harness in quick mode: a well-formed report covering every runtime, and the parity matrix."""

import json

import numpy as np
import psutil
import pytest

from nowwhat import compare
from nowwhat.tflite import TOLERANCES

#: In the report's row order (the harness measures TF Serving last but reports it in this place).
RUNTIMES = (
    "keras",
    "savedmodel",
    "flask-naive",
    "flask-production",
    "tf-serving-rest",
    "tf-serving-grpc",
    "tflite-float32",
    "tflite-float16",
    "tflite-dynamic",
    "tflite-int8",
    "tfjs-cpu",
    "tfjs-webgl",
)
SERVERS = {"flask-naive", "flask-production", "tf-serving-rest", "tf-serving-grpc"}


@pytest.fixture(scope="module")
def report(tmp_path_factory, exports):
    out = tmp_path_factory.mktemp("compare")
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    result = compare.run(quick=True, out=out)
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
    for a in compare.FLOAT32:
        for b in compare.FLOAT32:
            assert parity[a][b]["max_abs_diff"] <= 1e-4, (a, b)
            assert parity[a][b]["same_label"] == 1.0, (a, b)
    for level, tolerance in TOLERANCES.items():
        assert parity["keras"][f"tflite-{level}"]["max_abs_diff"] <= tolerance


@pytest.mark.slow
def test_report_files_and_clean_up(report):
    out = report["_out"]
    assert json.loads((out / "results.json").read_text())["mode"] == "quick"
    assert (out / "results.md").read_text().count("\n") >= len(RUNTIMES) + 1
    assert (out / "latency_cold_start.png").stat().st_size > 10_000 and (out / "parity.png").exists()
    with np.load(out / "probabilities.npz") as saved:
        assert set(saved.files) == set(RUNTIMES)
        assert all(saved[name].shape == (compare.SETTINGS["quick"]["reviews"], 2) for name in RUNTIMES)
    assert not [p for p in report["_leftover"] if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


def test_unknown_runtime_is_a_one_line_error(capsys, exports):
    assert compare.main(["--quick", "--only", "teleport"]) == 2
    assert "unknown runtime 'teleport'" in capsys.readouterr().err
