"""Chapter 04's exercise: the check says "not yet" to the notebook's starter cell and "right" to the
solution file, both run here with the real converter, and it names what is wrong in plausible wrong
answers (integer quantization, no folder, weights that no longer give Keras' answers)."""

import json
import shutil

import nbformat
import numpy as np
import pytest

from nowwhat.exercises import NOT_YET, RIGHT
from nowwhat.exercises.tfjs import check_float16_model, probabilities
from nowwhat.paths import build_dir, core_dir
from nowwhat.tfjs import convert
from nowwhat.workshop.notebooks import NOTEBOOKS

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

NOTEBOOK = NOTEBOOKS / "04_tfjs_browser.ipynb"


@pytest.fixture(scope="module")
def float32(exports):
    convert.ensure_converted()
    return convert.model_dir() / "float32"


def run_cell(source: str) -> None:
    """A notebook cell's code with the names the notebook defines before it."""
    names = {
        "convert": convert,
        "CONVERTER": convert.shell_path(convert.converter()),
        "BUILD": convert.shell_path(build_dir()),
    }
    exec(compile(source, "<cell>", "exec"), names)


def starter() -> str:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    return next(c.source for c in nb.cells if "exercise" in c.metadata.get("tags", []))


def test_the_starter_is_not_yet_and_the_solution_is_right(float32):
    yours = convert.tfjs_dir() / "yours" / "float16"
    run_cell(starter())
    verdict = check_float16_model(yours, float32)
    assert str(verdict) == (
        f"{NOT_YET} 4 of its 4 float weights are still stored as float32: add the converter's float16 flag "
        "(`tensorflowjs_converter --help` lists it) and run the command again."
    )
    run_cell((NOTEBOOKS / "solutions" / "04_tfjs_browser.py").read_text())
    verdict = check_float16_model(yours, float32)
    assert str(verdict) == (
        f"{RIGHT} every float weight is stored as float16, the model is 50% of float32's bytes, and it "
        "gives Keras' probabilities on all 62 test vectors within 0.001."
    )


def test_uint8_quantization_is_not_float16(float32, tmp_path):
    saved_model = convert.shell_path(core_dir() / "saved_model")
    convert.shell(
        f"{convert.shell_path(convert.converter())} "
        "--input_format=tf_saved_model --output_format=tfjs_graph_model "
        f"--quantize_uint8='*' {saved_model} {tmp_path / 'uint8'}"
    )
    assert str(check_float16_model(tmp_path / "uint8", float32)) == (
        f"{NOT_YET} its weights are stored as uint8, an integer quantization: the task is float16 "
        "(the converter's --quantize_float16 flag)."
    )


def test_no_folder_or_no_float32_to_compare_with(float32, tmp_path):
    assert str(check_float16_model(tmp_path / "float16", float32)) == (
        f"{NOT_YET} float16/ has no model.json yet: run your converter command into that folder."
    )
    demo16 = convert.model_dir() / "float16"
    assert str(check_float16_model(demo16, tmp_path / "float32")) == (
        f"{NOT_YET} float32/ has no model.json: run the float32 conversion first (to compare)."
    )


def test_float16_weights_that_no_longer_give_keras_answers_are_caught(float32, tmp_path):
    broken = shutil.copytree(convert.model_dir() / "float16", tmp_path / "float16")
    shard = broken / "group1-shard1of1.bin"
    data = bytearray(shard.read_bytes())
    data[-4:] = np.array([4.0, -4.0], np.float16).tobytes()  # the last weight: the output bias
    shard.write_bytes(bytes(data))
    verdict = check_float16_model(broken, float32)
    assert not verdict and verdict.message.startswith("it differs from Keras by up to ")


def test_the_numpy_forward_pass_is_the_core_model(float32, test_vectors):
    """What the parity part of the check rests on: on float32 weights it reproduces Keras."""
    got = probabilities(float32, [v["ids"] for v in test_vectors])
    assert np.abs(got - np.array([v["probabilities"] for v in test_vectors])).max() < 1e-5
    names = json.loads((float32 / "model.json").read_text())["weightsManifest"][0]["weights"]
    assert names[-1]["name"].endswith("BiasAdd/ReadVariableOp")  # the test above edits the right bytes
