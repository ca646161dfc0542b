"""The README's commands on models that are not the workshop's, in a copy of the demo alone:
`python convert.py keras|sklearn …` on the workstation, then `python classify.py …` where it runs."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys

import pytest
from small_model import LABELS

from conftest import DEMO, copy_demo, run

#: classify.py with TensorFlow, Keras and scikit-learn made unimportable: what it needs is onnxruntime.
WITHOUT_THE_FRAMEWORKS = (
    "import runpy, sys; sys.modules.update(tensorflow=None, keras=None, sklearn=None); "
    "sys.argv = ['classify.py', *sys.argv[1:]]; runpy.run_path('classify.py', run_name='__main__')"
)


KERAS = "keras --saved-model {folder}/core --tokenizer {folder}/tokenizer"
SKLEARN = "sklearn --pipeline {folder}/pipeline.joblib"


def answers(done: subprocess.CompletedProcess) -> list[dict]:
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


@pytest.mark.parametrize(("bundle", "given"), [("model", "token_ids"), ("sklearn-model", "text")])
def test_convert_writes_the_model_with_its_checksum_and_labels(converted, bundle, given):
    folder = converted / bundle
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["input"] == given and manifest["labels"] == LABELS
    assert json.loads((folder / "labels.json").read_text()) == LABELS
    assert manifest["sha256"] == hashlib.sha256((folder / "model.onnx").read_bytes()).hexdigest()
    has_tokenizer = {"tokenizer.py", "tokenizer.json"} <= {p.name for p in folder.iterdir()}
    assert has_tokenizer == (given == "token_ids")  # a scikit-learn pipeline converts its text step too
    assert not [p for p in converted.iterdir() if p.name.startswith(".")]  # no half-written bundle left


@pytest.mark.parametrize(("bundle", "expected"), [("model", 1), ("sklearn-model", 2)])
def test_classify_answers_like_the_framework_without_it(converted, models, bundle, expected):
    expected = models[expected]
    args = ["-c", WITHOUT_THE_FRAMEWORKS, "--json", "--model-dir", bundle, *expected]
    done = subprocess.run([sys.executable, *args], cwd=converted, capture_output=True, text=True, timeout=120)
    for answer, probabilities in zip(answers(done), expected.values(), strict=True):
        assert list(answer["probabilities"]) == LABELS
        assert list(answer["probabilities"].values()) == pytest.approx(probabilities, abs=1e-5)
        assert answer["label"] == LABELS[probabilities.index(max(probabilities))]


def test_reviews_come_one_per_line_from_stdin_and_model_dir_points_anywhere(converted, models, tmp_path):
    shutil.copy(converted / "classify.py", tmp_path / "classify.py")
    texts = list(models[2])
    done = run(tmp_path, "classify.py", "--json", stdin="\n".join(texts) + "\n",
               MODEL_DIR=str(converted / "sklearn-model"))
    assert len(answers(done)) == len(texts)


@pytest.mark.parametrize(
    ("bundle", "args", "stdin", "says"),
    [
        ("model", [""], None, "argument 1 is empty"),
        ("sklearn-model", [" \t "], None, "argument 1 is empty"),
        ("model", ["great tea", "?!"], None, "argument 2 has no words to classify"),
        ("sklearn-model", ["x" * 100_001], None, "argument 1 is 100,001 characters long"),
        ("model", [], "great tea\n\udcff\n", "line 2 of stdin is not valid UTF-8"),
        ("sklearn-model", [], "", "stdin is empty"),
    ],
    ids=["empty", "whitespace", "punctuation", "huge", "not-utf8", "no-input"],
)
def test_bad_input_is_one_line_and_no_output(converted, bundle, args, stdin, says):
    command = [sys.executable, "classify.py", "--model-dir", bundle, *args]
    data = stdin.encode("utf-8", "surrogateescape") if stdin is not None else None
    done = subprocess.run(command, cwd=converted, input=data, capture_output=True, timeout=120)
    stderr = done.stderr.decode()
    assert done.returncode == 2 and done.stdout == b"" and "Traceback" not in stderr, stderr
    assert stderr.startswith("error: ") and says in stderr and stderr.count("\n") == 1


def test_without_a_bundle_the_client_says_how_to_make_one(tmp_path):
    shutil.copy(DEMO / "classify.py", tmp_path / "classify.py")
    done = run(tmp_path, "classify.py", "great tea")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"no ONNX model at {tmp_path / 'model' / 'model.onnx'}" in done.stderr
    assert "python convert.py" in done.stderr and "README.md, 'Your own model'" in done.stderr


def test_a_changed_model_file_is_refused(converted, tmp_path):
    shutil.copytree(converted / "model", tmp_path / "model")
    shutil.copy(DEMO / "classify.py", tmp_path / "classify.py")
    with open(tmp_path / "model" / "model.onnx", "ab") as model:
        model.write(b"\0")
    done = run(tmp_path, "classify.py", "great tea")
    assert done.returncode == 2 and "does not match the bundle's manifest (SHA-256)" in done.stderr


def test_a_pipeline_skl2onnx_would_convert_wrongly_is_refused(models, tmp_path):
    import joblib

    pipeline = joblib.load(models[0] / "pipeline.joblib")
    pipeline.steps[0][1].sublinear_tf = True  # skl2onnx 1.20 writes log(1 + tf), not 1 + log(tf)
    joblib.dump(pipeline, tmp_path / "sublinear.joblib")
    args = ["sklearn", "--pipeline", "sublinear.joblib", "--labels", "a,b,c"]
    done = run(copy_demo(tmp_path), "convert.py", *args)
    assert done.returncode == 2 and "sublinear_tf=True" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ([*KERAS.replace("{folder}/core", "nowhere").split()], "could not convert nowhere"),
        ([*KERAS.split(), "--labels", "one"], "no labels"),
        ([*SKLEARN.split()], "give --labels"),
        ([*SKLEARN.split(), "--labels", "a,b"], "3 classes, --labels names 2"),
        ([*SKLEARN.replace("{folder}/pipeline", "missing").split(), "--labels", "a,b"], "No such file"),
    ],
    ids=["no-saved-model", "one-label", "sklearn-without-labels", "label-count", "no-pipeline"],
)
def test_a_conversion_that_cannot_be_done_is_one_line(models, tmp_path, args, says):
    args = [arg.format(folder=models[0]) for arg in args]
    done = run(copy_demo(tmp_path), "convert.py", *args)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith("error: ") and says in done.stderr
    assert not (tmp_path / "model").exists()
