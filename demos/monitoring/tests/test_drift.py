"""drift.py on samples made here: an unshifted sample is not flagged, a shifted feature is, the numbers
behave as their definitions say, and the command line answers bad input with one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import drift
import numpy as np
import pytest

DEMO = Path(__file__).resolve().parents[1]


def sample(n: int, seed: int, chars: float = 300, great: float = 0.65, confidence: float = 0.85) -> dict:
    rng = np.random.default_rng(seed)
    return {
        "text_chars": rng.lognormal(np.log(chars), 0.6, n).round().tolist(),
        "label": rng.choice(["great", "other"], n, p=[great, 1 - great]).tolist(),
        "top_probability": np.clip(rng.normal(confidence, 0.1, n), 0.5, 1).tolist(),
    }


def test_a_sample_from_the_same_distribution_is_not_flagged():
    report = drift.compare(sample(600, 1), sample(300, 2))
    assert report["drifted"] == [], drift.table(report)
    assert all(result["psi"] < 0.1 for result in report["features"].values())


@pytest.mark.parametrize(
    ("shift", "feature"),
    [({"chars": 150}, "text_chars"), ({"great": 0.9}, "label"), ({"confidence": 0.7}, "top_probability")],
)
def test_a_shifted_feature_is_flagged_and_only_it(shift, feature):
    report = drift.compare(sample(600, 1), sample(300, 2, **shift))
    assert report["drifted"] == [feature], drift.table(report)
    assert report["features"][feature]["psi"] > 0.1


def test_psi_is_zero_for_equal_samples_and_grows_with_the_shift():
    reference = np.arange(1000)
    assert drift.psi(reference, reference) == pytest.approx(0, abs=1e-12)
    assert 0 < drift.psi(reference, reference + 100) < drift.psi(reference, reference + 300)
    assert drift.psi_categories(["a"] * 50 + ["b"] * 50, ["a"] * 50 + ["b"] * 50) == pytest.approx(0)


def test_text_features_use_the_tokenizer_s_rules_and_vocabulary():
    spec = {"strip_chars": "!.,", "split_on": " \t\n", "vocabulary": ["", "[UNK]", "great", "tea"]}
    features = drift.text_features(["Great tea!", "great coffee, really", "!!!"], spec)
    assert features["text_chars"] == [10, 20, 3]
    assert features["oov_share"] == [
        0.0,
        pytest.approx(2 / 3),
        1.0,
    ]  # "Great" lowercased; no words: all unknown


def write_log(folder: Path, columns: dict) -> Path:
    folder.mkdir(parents=True)
    rows = [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)]
    lines = [
        json.dumps({"time": f"2026-12-04T10:{i // 60:02d}:{i % 60:02d}.000+00:00", **r})
        for i, r in enumerate(rows)
    ]
    (folder / "predictions-1.jsonl").write_text("\n".join(lines) + "\n")
    return folder


def run(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "drift.py", *map(str, args)], cwd=DEMO, capture_output=True, text=True
    )


def test_the_command_exits_1_on_drift_and_0_without(tmp_path):
    reference = write_log(tmp_path / "reference", sample(600, 1))
    same = write_log(tmp_path / "same", sample(300, 2))
    shifted = write_log(tmp_path / "shifted", sample(300, 2, chars=150))
    assert run(reference, same).returncode == 0
    done = run(reference, shifted, "--json", tmp_path / "report.json")
    assert done.returncode == 1 and "drifted: text_chars" in done.stdout, done.stdout + done.stderr
    assert json.loads((tmp_path / "report.json").read_text())["drifted"] == ["text_chars"]


def test_a_time_window_selects_the_lines_of_that_window(tmp_path):
    log = write_log(tmp_path / "log", sample(120, 3))
    window = drift.read_log(log, since="2026-12-04T10:00:30", until="2026-12-04T10:01:10")
    assert len(window["label"]) == 40


def test_bad_input_gets_one_line_and_status_2(tmp_path):
    reference = write_log(tmp_path / "reference", sample(600, 1))
    (tmp_path / "empty").mkdir()
    (tmp_path / "broken.jsonl").write_text('{"time": "x", "label": "great"}\nnot json\n')
    (tmp_path / "binary.jsonl").write_bytes(b"\xff\xfe\x00garbage")
    small = write_log(tmp_path / "small", sample(5, 1))
    for current, says in [
        (tmp_path / "nowhere", "does not exist"),
        (tmp_path / "empty", "no prediction log"),
        (tmp_path / "broken.jsonl", "broken.jsonl:1 is not a prediction log line"),
        (tmp_path / "binary.jsonl", "error:"),
        (small, "compare samples of 20 or more"),
    ]:
        done = run(reference, current)
        assert done.returncode == 2 and says in done.stderr, done.stderr
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
