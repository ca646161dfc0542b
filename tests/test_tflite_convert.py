"""TFLiteConverter turns the core model into four LiteRT files that do what each quantization level says."""

import hashlib
import json

import numpy as np
import pytest

from nowwhat.errors import NowWhatError
from nowwhat.paths import REPO_ROOT, tokenizer_dir
from nowwhat.tflite.convert import (
    LEVELS,
    bundle_dir,
    convert,
    convert_level,
    ensure_converted,
    inspect,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def manifest(exports):
    return ensure_converted()


def weights(level: str) -> dict:
    """Stored weight tensors of one level by shape: {(20000, 16): dtype, (2, 16): dtype}."""
    return {tuple(w["shape"]): w["dtype"] for w in inspect(bundle_dir() / f"{level}.tflite")["weights"]}


def test_bundle_holds_every_level_and_the_exported_tokenizer(manifest):
    assert manifest["kind"] == "tflite bundle" and list(manifest["bytes"]) == list(LEVELS)
    for level in LEVELS:
        data = (bundle_dir() / f"{level}.tflite").read_bytes()
        assert data[4:8] == b"TFL3", level  # the FlatBuffer file identifier of a LiteRT model
        assert len(data) == manifest["bytes"][level]
        assert hashlib.sha256(data).hexdigest() == manifest["sha256"][level]
    for name in ("tokenizer.json", "tokenizer.py", "test_vectors.json"):
        assert (bundle_dir() / name).read_bytes() == (tokenizer_dir() / name).read_bytes(), name
    # one implementation of the tokenizer: the bundle's copy is the package's module, byte for byte
    assert (bundle_dir() / "tokenizer.py").read_bytes() == (
        REPO_ROOT / "src/nowwhat/tokenizer.py"
    ).read_bytes()


def test_every_level_takes_token_ids_and_gives_two_probabilities(manifest):
    for level in LEVELS:
        model = inspect(bundle_dir() / f"{level}.tflite")
        assert model["input"] == "int32 [-1, 600]", level
        assert "GATHER" in model["operators"] and "SOFTMAX" in model["operators"], level
        assert not [op for op in model["operators"] if op.startswith("Flex")], level
    assert inspect(bundle_dir() / "float32.tflite")["output"] == "float32 [-1, 2]"
    assert (
        inspect(bundle_dir() / "int8.tflite")["output"] == "int8 [-1, 2] (scale 0.00390625, zero point -128)"
    )


def test_each_level_stores_the_weights_it_promises(manifest):
    embedding, dense = (20000, 16), (2, 16)
    assert weights("float32") == {embedding: "float32", dense: "float32"}
    assert weights("float16")[embedding] == "float16" and weights("float16")[dense] == "float16"
    # dynamic range only quantizes tensors of at least 1,024 elements: the 32-weight dense layer stays float
    assert weights("dynamic") == {embedding: "int8", dense: "float32"}
    assert weights("int8") == {embedding: "int8", dense: "int8"}
    # the selective part: the mean runs in float32, so values are turned back into float before it
    assert {"DEQUANTIZE", "DIV", "SUM"} <= set(inspect(bundle_dir() / "int8.tflite")["operators"])


def test_sizes_follow_the_bits_per_weight(manifest):
    share = {level: manifest["bytes"][level] / manifest["bytes"]["float32"] for level in LEVELS}
    assert 0.48 < share["float16"] < 0.52
    assert 0.24 < share["dynamic"] < 0.27
    assert 0.24 < share["int8"] <= 0.30  # int8 keeps at most 30 % of float32's bytes


def test_calibration_uses_training_reviews_only(manifest):
    from nowwhat.data import load_splits
    from nowwhat.tflite.convert import representative_ids
    from nowwhat.tokenizer import Tokenizer

    assert manifest["calibration"] == {"split": "train", "reviews": 500}
    calibration = representative_ids()
    tokenizer = Tokenizer.from_spec(tokenizer_dir() / "tokenizer.json")
    test = {tuple(tokenizer.encode(text)) for text in load_splits().texts("test")}
    assert calibration.shape == (500, 600) and calibration.dtype == np.int32
    assert not test & {tuple(row) for row in calibration.tolist()}


def test_missing_export_names_the_command(tmp_path, monkeypatch):
    monkeypatch.setenv("NOWWHAT_BUILD", str(tmp_path / "empty"))
    with pytest.raises(NowWhatError, match="python -m nowwhat export"):
        convert()
    assert not (tmp_path / "empty" / "tflite").exists()


def test_unknown_level_is_refused(tmp_path, exports):
    with pytest.raises(NowWhatError, match="float32, float16, dynamic, int8"):
        convert_level("int4", exports / "core" / "saved_model", tmp_path / "x.tflite")


def test_a_broken_saved_model_gives_one_line_error(tmp_path):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "saved_model.pb").write_bytes(b"not a protobuf")
    with pytest.raises(NowWhatError, match=r"converting .* failed") as error:
        convert_level("float32", tmp_path / "broken", tmp_path / "x.tflite")
    assert "\n" not in str(error.value)
    assert not (tmp_path / "x.tflite").exists()


def test_inspect_without_a_model_names_the_command(tmp_path):
    with pytest.raises(NowWhatError, match=r"python -m nowwhat tflite convert"):
        inspect(tmp_path / "float32.tflite")


def test_cli_convert_writes_the_bundle_into_the_build_folder(tmp_path, monkeypatch, exports, capsys):
    """`python -m nowwhat tflite convert` in a child process (how the comparison harness converts, staying
    free of TensorFlow), in a private build folder, from a copy of the export."""
    import shutil

    shutil.copytree(exports, tmp_path / "export")
    monkeypatch.setenv("NOWWHAT_BUILD", str(tmp_path))
    manifest = ensure_converted(in_child=True)
    assert "no LiteRT bundle" in capsys.readouterr().out
    written = json.loads((tmp_path / "tflite" / "model" / "manifest.json").read_text())
    assert written == manifest and written["bytes"].keys() == set(LEVELS)
    assert not list((tmp_path / "tflite").glob(".model-*"))  # no half-written staging folder left


def test_conversion_in_a_child_reports_its_error(tmp_path, monkeypatch):
    monkeypatch.setenv("NOWWHAT_BUILD", str(tmp_path / "empty"))
    failed = r"making the LiteRT bundle failed: error: .*python -m nowwhat export"
    with pytest.raises(NowWhatError, match=failed):
        ensure_converted(in_child=True)
