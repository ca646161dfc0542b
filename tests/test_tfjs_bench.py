"""The benchmark script runs end to end (with tiny settings; the figures themselves come from
`make bench-tfjs`, never from a timed test) and fails in one line when its inputs are missing."""

import json
import os
import subprocess
import sys

import pytest

from nowwhat.tfjs.bench import TARGETS, benchmark, findings, table

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def test_tiny_benchmark_writes_every_configuration(exports, tmp_path):
    out = tmp_path / "benchmark.json"
    result = benchmark(loads=1, seconds=0.1, reviews=20, out=out)
    assert json.loads(out.read_text()) == result
    assert {(r["weights"], r["backend"]) for r in result["runs"]} == {
        (w, b) for w in ("float32", "float16") for b in ("cpu", "webgl")
    }
    for run in result["runs"]:
        assert run["model_bytes_downloaded"] == result["model_bytes"][run["weights"]]
        assert run["ready_ms_median"] > 0 and run["predictions_per_s_median"] > 0
        assert run["vs_keras"]["max_abs_diff"] < (1e-4 if run["weights"] == "float32" else 1e-3)
        assert run["requests_off_machine"] == 0
    assert result["targets"] == TARGETS and set(result["targets_met"]) == {"ready", "cpu_rate"}
    assert table(result).count("\n") == 1 + len(result["runs"])
    said = findings(result)
    assert f"{result['model_bytes']['float16']:,} bytes" in said and said.count("\n- ") == 2


def _run(weights, backend, accuracy, diff, ready, rate):
    return {
        "weights": weights,
        "backend": backend,
        "test_accuracy": accuracy,
        "ready_ms_median": ready,
        "vs_keras": {"max_abs_diff": diff},
        "predictions_per_s_median": rate,
    }


def test_findings_say_what_the_figures_say():
    """The notebook's conclusions are computed: a slow page is "over" the aim, moved reviews are counted."""
    result = {
        "settings": {"test_reviews": 1000, "page_loads": 3},
        "model_bytes": {"float32": 1000, "float16": 500},
        "runs": [
            _run("float32", "cpu", 0.812, 1.2e-7, 400, 500),
            _run("float32", "webgl", 0.812, 1.2e-7, 2500, 150),
            _run("float16", "cpu", 0.809, 8e-5, 450, 450),
            _run("float16", "webgl", 0.809, 8e-5, 2600, 140),
        ],
    }
    said = findings(result, parity={"cpu": {"max_abs_diff": 2e-7}, "webgl": {"max_abs_diff": 1e-7}})
    assert "float16 is 50% of the download** (1,000 → 500 bytes)" in said
    assert "by 3 review(s) in 1000: for this model, ship float16" in said
    assert "1.2e-07 (2.0e-07 on the shared vectors)" in said
    assert "float16 / webgl, took 2,600 ms, over the demo's aim of 2 s" in said
    assert "float32 / cpu, made 500 single-review" in said and "(2.0 ms each)" in said
    result["runs"][2]["test_accuracy"] = 0.800
    assert "by 12 review(s) in 1000: weigh the saving against that" in findings(result)


def test_cli_without_artifacts_fails_in_one_line(tmp_path):
    env = {**os.environ, "NOWWHAT_BUILD": str(tmp_path / "empty"), "NOWWHAT_TFJS_VENV": str(tmp_path)}
    command = [sys.executable, "-m", "nowwhat", "tfjs", "bench"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and "python -m nowwhat export" in result.stderr
    assert "Traceback" not in result.stderr
