"""The README's two commands on a model that is not the workshop's, in a copy of the demo alone:
`python convert.py …` on the workstation, then `python classify.py …` as on the device."""

from __future__ import annotations

import json
import shutil

import pytest
from small_model import LABELS

from conftest import DEMO, run

LEVELS = ("float32", "float16", "dynamic", "int8")


def test_convert_writes_every_level_with_its_checksum_and_the_tokenizer(converted):
    copy, done = converted
    bundle = copy / "model"
    assert done.stdout.startswith(f"wrote {bundle}: float32 ") and f"labels {LABELS}" in done.stdout
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert sorted(manifest["bytes"]) == sorted(LEVELS) == sorted(manifest["sha256"])
    assert manifest["labels"] == json.loads((bundle / "labels.json").read_text()) == LABELS
    assert {"tokenizer.py", "tokenizer.json"} <= {p.name for p in bundle.iterdir()}
    assert not [p for p in copy.iterdir() if p.name.startswith(".model-")]  # no half-written bundle left


def test_classify_answers_like_keras_with_the_model_s_labels(converted, small_model):
    copy, expected = converted[0], small_model[1]
    done = run(copy, "classify.py", "--json", "--level", "float32", *expected)
    assert done.returncode == 0, done.stderr
    for line, probabilities in zip(done.stdout.splitlines(), expected.values(), strict=True):
        answer = json.loads(line)
        assert list(answer["probabilities"]) == LABELS
        assert list(answer["probabilities"].values()) == pytest.approx(probabilities, abs=2e-6)
        assert answer["label"] == LABELS[probabilities.index(max(probabilities))]


@pytest.mark.parametrize("level", ["float16", "dynamic", "int8"])
def test_every_smaller_level_answers_with_probabilities(converted, small_model, level):
    copy, expected = converted[0], small_model[1]
    done = run(copy, "classify.py", "--json", "--level", level, *expected)
    assert done.returncode == 0, done.stderr
    answers = [json.loads(line)["probabilities"] for line in done.stdout.splitlines()]
    assert len(answers) == len(expected)
    assert all(sum(a.values()) == pytest.approx(1, abs=0.02) and set(a) == set(LABELS) for a in answers)


def test_model_dir_points_the_client_anywhere(converted, tmp_path):
    copy = converted[0]
    shutil.copy(copy / "classify.py", tmp_path / "classify.py")
    done = run(tmp_path, "classify.py", "great tea", MODEL_DIR=str(copy / "model"))
    assert done.returncode == 0 and done.stdout.split()[0] in LABELS, done.stderr


def test_without_a_bundle_the_client_says_how_to_make_one(tmp_path):
    shutil.copy(DEMO / "classify.py", tmp_path / "classify.py")
    done = run(tmp_path, "classify.py", "great tea")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"no LiteRT model at {tmp_path / 'model'}" in done.stderr
    assert "python convert.py" in done.stderr and "README.md, 'Your own model'" in done.stderr


def test_without_calibration_int8_is_left_out_and_said(small_model, tmp_path):
    folder = small_model[0]
    shutil.copy(DEMO / "classify.py", tmp_path / "classify.py")
    shutil.copy(DEMO / "convert.py", tmp_path / "convert.py")
    args = ["--saved-model", str(folder / "core"), "--tokenizer", str(folder / "tokenizer")]
    done = run(tmp_path, "convert.py", *args, "--out", "bundle")
    assert done.returncode == 0, done.stderr
    assert "(no int8: it needs --calibration)" in done.stdout
    assert not (tmp_path / "bundle" / "int8.tflite").exists()


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"--saved-model": "nowhere"}, "converting nowhere to float32 failed"),
        ({"--labels": "only-one"}, "no labels"),
        ({"--calibration": "missing.txt"}, "No such file or directory"),
    ],
)
def test_a_conversion_that_cannot_be_done_is_one_line(small_model, tmp_path, change, says):
    folder = small_model[0]
    shutil.copy(DEMO / "classify.py", tmp_path / "classify.py")
    shutil.copy(DEMO / "convert.py", tmp_path / "convert.py")
    options = {"--saved-model": str(folder / "core"), "--tokenizer": str(folder / "tokenizer"), **change}
    done = run(tmp_path, "convert.py", *[word for pair in options.items() for word in pair])
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith("error: ") and says in done.stderr
    assert not (tmp_path / "model").exists()
