"""The real tensorflowjs converter, run from its own environment, turns the core into a TF.js graph model."""

import importlib.metadata as md

import numpy as np
import pytest

from nowwhat.errors import NowWhatError
from nowwhat.tfjs.convert import (
    convert,
    convert_saved_model,
    ensure_converted,
    inspect,
    model_dir,
    read_weights,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def converted(exports):
    return ensure_converted()


def test_both_weight_types_are_converted_with_the_real_converter(converted):
    assert converted["kind"] == "tfjs model"
    assert converted["converter"] == "TensorFlow.js Converter v4.22.0"
    for weights in ("float32", "float16"):
        model = inspect(model_dir() / weights)
        assert model["format"] == "graph-model"
        assert model["inputs"] == {"token_ids": "int32 [-1, 600]"}
        assert model["outputs"] == {"probabilities": "float [-1, 2]"}
        assert "GatherV2" in model["operations"] and "Softmax" in model["operations"]
    assert (model_dir() / "tokenizer.json").read_bytes() == (
        model_dir().parents[1] / "export" / "tokenizer" / "tokenizer.json"
    ).read_bytes()


def test_float16_halves_the_download(converted):
    float32, float16 = converted["bytes"]["float32"], converted["bytes"]["float16"]
    assert 0.45 * float32 < float16 < 0.55 * float32
    stored = {w["stored_as"] for w in inspect(model_dir() / "float16")["weights"] if w["dtype"] == "float32"}
    assert stored == {"float16"}


def test_converted_weights_are_the_keras_weights(converted, trained):
    from nowwhat.training import load_trained

    core = load_trained()[1]
    embedding = core.get_layer("embedding").get_weights()[0]
    kernel, bias = core.get_layer("probabilities").get_weights()
    for weights, dtype in (("float32", np.float32), ("float16", np.float16)):
        by_shape = {a.shape: a for a in read_weights(model_dir() / weights).values() if a.ndim}
        assert np.array_equal(by_shape[embedding.shape], embedding.astype(dtype)), weights
        assert np.array_equal(by_shape[kernel.shape], kernel.astype(dtype)), weights
        assert np.array_equal(by_shape[bias.shape], bias.astype(dtype)), weights


def test_the_workshop_environment_was_not_touched():
    """The trap this chapter avoids: tensorflowjs in .venv would replace tensorflow-cpu 2.21."""
    assert md.version("tensorflow-cpu") == "2.21.0"
    for package in ("tensorflowjs", "tensorflow", "tensorflow-decision-forests"):
        with pytest.raises(md.PackageNotFoundError):
            md.version(package)


def test_missing_converter_environment_says_how_to_install_it(tmp_path, monkeypatch, exports):
    monkeypatch.setenv("NOWWHAT_TFJS_VENV", str(tmp_path / "no-venv"))
    with pytest.raises(NowWhatError, match="make setup-tfjs"):
        convert(out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_missing_export_says_how_to_build_it(tmp_path, monkeypatch):
    monkeypatch.setenv("NOWWHAT_BUILD", str(tmp_path / "empty"))
    with pytest.raises(NowWhatError, match="python -m nowwhat export"):
        convert()


def test_unknown_weight_type_is_refused(tmp_path):
    with pytest.raises(NowWhatError, match="float32, float16"):
        convert_saved_model(tmp_path, tmp_path / "out", "int4")


def test_a_broken_saved_model_gives_one_line_error(tmp_path):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "saved_model.pb").write_bytes(b"not a protobuf")
    with pytest.raises(NowWhatError, match="tensorflowjs_converter failed") as error:
        convert_saved_model(tmp_path / "broken", tmp_path / "out")
    assert "\n" not in str(error.value)


def test_inspect_without_a_model_names_the_command(tmp_path):
    with pytest.raises(NowWhatError, match=r"python -m nowwhat tfjs convert"):
        inspect(tmp_path)
