"""The benchmark script runs end to end (with tiny settings; the figures themselves come from
`make bench-tfjs`, never from a timed test) and fails in one line when its inputs are missing."""

import json
import os
import subprocess
import sys

import pytest

from nowwhat.tfjs_bench import TARGETS, benchmark, table

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


def test_cli_without_artifacts_fails_in_one_line(tmp_path):
    env = {**os.environ, "NOWWHAT_BUILD": str(tmp_path / "empty"), "NOWWHAT_TFJS_VENV": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "nowwhat.tfjs_bench"], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and "python -m nowwhat export" in result.stderr
    assert "Traceback" not in result.stderr
