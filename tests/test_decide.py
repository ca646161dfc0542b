"""The decision guide's answer for all 16 combinations of the four questions."""

import subprocess
import sys
from itertools import product

import pytest

from nowwhat.compare.decide import CHAPTERS, recommend

# (central, gpu, privacy, distribute) → runtime, written out by hand from the rules in the docstring.
EXPECTED = {
    (0, 0, 0, 0): "tflite",
    (0, 0, 0, 1): "tfjs",
    (0, 0, 1, 0): "tflite",
    (0, 0, 1, 1): "tfjs",
    (0, 1, 0, 0): "tf-serving",
    (0, 1, 0, 1): "tf-serving",
    (0, 1, 1, 0): "tflite",
    (0, 1, 1, 1): "tfjs",
    (1, 0, 0, 0): "flask",
    (1, 0, 0, 1): "tfjs",
    (1, 0, 1, 0): "tfjs",
    (1, 0, 1, 1): "tfjs",
    (1, 1, 0, 0): "tf-serving",
    (1, 1, 0, 1): "tf-serving",
    (1, 1, 1, 0): "tfjs",
    (1, 1, 1, 1): "tfjs",
}


@pytest.mark.parametrize("answers", list(product((0, 1), repeat=4)), ids=lambda a: "".join(map(str, a)))
def test_every_combination(answers):
    choice = recommend(*map(bool, answers))
    assert choice.runtime == EXPECTED[answers]
    assert choice.runtime in CHAPTERS and choice.reason
    if answers[1] and answers[2]:  # privacy + GPU: the reason must say the client GPU still helps
        assert "GPU" in choice.reason


def test_privacy_never_sends_text_to_a_server():
    for central, gpu, distribute in product((False, True), repeat=3):
        assert recommend(central, gpu, True, distribute).runtime in {"tfjs", "tflite"}


def test_cli_answers_and_rejects_bad_answers():
    ok = subprocess.run(
        [
            sys.executable,
            "-m",
            "nowwhat",
            "decide",
            "--central",
            "yes",
            "--gpu",
            "no",
            "--privacy",
            "no",
            "--distribute",
            "no",
        ],
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0 and "Flask" in ok.stdout and "02_flask" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "nowwhat", "decide", "--central", "maybe"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "invalid choice" in bad.stderr and "Traceback" not in bad.stderr


def test_distribute_without_privacy_or_gpu_runs_on_the_clients():
    """Chapter 00 reads "distribute predictions to clients" as computing them on the clients (browser or
    edge); with central deployment too, the browser keeps one place to update: the model's web server."""
    for central in (False, True):
        assert recommend(central, False, False, True).runtime == "tfjs"
    assert "one place to update" in recommend(True, False, False, True).reason


def test_a_gpu_overrides_distribution_and_says_why():
    reason = recommend(False, True, False, True).reason
    assert "too heavy for the clients" in reason
    assert "too heavy" not in recommend(False, True, False, False).reason


def test_batching_is_never_claimed_as_measured():
    """Nothing here measures request batching (the development server does not batch): a reason that
    names it must say so."""
    for answers in product((False, True), repeat=4):
        reason = recommend(*answers).reason
        if "batch" in reason:
            assert "not measured here" in reason, answers


ROW = {
    "runtime": "tflite-dynamic",
    "latency_p50_ms": 0.0731,
    "cold_start_s": 0.5,
    "size_bytes": 325_000,
    "accuracy": 0.811,
    "throughput_rps_c8": None,
    "note": "",
    "vs_keras": {"same_label": 0.999, "max_abs_diff": 0.0035},
}


def test_evidence_quotes_the_measured_figures():
    from nowwhat.compare.decide import evidence

    report = {"results": [ROW], "machine": {"cpus": 2}, "mode": "full"}
    lines = evidence("tflite", report)
    assert lines[0] == (
        "tflite-dynamic: p50 0.07 ms per review, cold start 0.50 s, 0.33 MB, accuracy 0.811, "
        "max |Δp| vs Keras 3.5e-03"
    )
    assert lines[-1] == "measured on 2 CPUs, full run"
    assert "make bench" in evidence("flask", None)[0]


def test_the_edge_evidence_cites_the_level_chapter_05_advises_not_int8():
    from nowwhat.compare.decide import EVIDENCE_ROWS

    assert EVIDENCE_ROWS["tflite"][0] == "tflite-dynamic" and "tflite-int8" not in EVIDENCE_ROWS["tflite"]
