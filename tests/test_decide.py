"""The decision guide's answer for all 16 combinations of the four questions."""

import subprocess
import sys
from itertools import product

import pytest

from nowwhat.decide import CHAPTERS, recommend

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
    (1, 0, 0, 1): "tf-serving",
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


def test_evidence_quotes_the_measured_figures():
    from nowwhat.decide import evidence

    row = {
        "runtime": "tflite-int8",
        "latency_p50_ms": 0.0731,
        "cold_start_s": 0.5,
        "size_bytes": 325_000,
        "accuracy": 0.811,
        "throughput_rps_c8": None,
        "note": "",
    }
    report = {"results": [row], "machine": {"cpus": 2}, "mode": "full"}
    lines = evidence("tflite", report)
    assert lines[0] == "tflite-int8: p50 0.07 ms per review, cold start 0.50 s, 0.33 MB, accuracy 0.811"
    assert lines[-1] == "measured on 2 CPUs, full run"
    assert "make bench" in evidence("flask", None)[0]
