"""The edge client's command line: arguments, stdin, files, JSON; bad input; and no TensorFlow anywhere.

Every bad input must end in exactly one `error: …` line on stderr and a non-zero exit status, never a
traceback.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nowwhat.tflite.convert import TOLERANCES, bundle_dir, ensure_converted
from nowwhat.tflite.evaluate import CLIENT
from nowwhat.tflite.evaluate import run_client as run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bundle(exports):
    ensure_converted()
    return bundle_dir()


def assert_one_line_error(result, *fragments: str) -> str:
    err = result.stderr.decode()
    assert result.returncode != 0, err
    assert result.stdout == b""
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    for fragment in fragments:
        assert fragment in err, err
    return err


def test_arguments_are_classified_one_per_line(bundle):
    result = run(
        "--model-dir", bundle, "Great coffee, will buy again!", "Stale, overpriced and the bag was torn."
    )
    assert result.returncode == 0 and result.stderr == b""
    lines = result.stdout.decode().splitlines()
    assert [line.split()[0] for line in lines] == ["great", "other"]
    assert lines[0].endswith("Great coffee, will buy again!")


def test_stdin_lines_with_json_output(bundle, test_vectors):
    cases = [c for c in test_vectors if c["name"].startswith("test_review_")][:10]
    text = "".join(c["text"].replace("\n", " ") + "\r\n" for c in cases)  # Windows line ends too
    result = run("--model-dir", bundle, "--json", "--level", "float32", stdin=text.encode())
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert len(answers) == len(cases)
    for answer, case in zip(answers, cases, strict=True):  # a newline → a space: the same tokens
        assert list(answer) == ["label", "probabilities"]
        got = [answer["probabilities"]["great"], answer["probabilities"]["other"]]
        assert max(abs(g - p) for g, p in zip(got, case["probabilities"], strict=True)) < 1e-5


def test_a_file_with_a_byte_order_mark(bundle, tmp_path):
    path = tmp_path / "reviews.txt"
    path.write_bytes("\ufeffGreat coffee\nAwful, stale, never again\n".encode())
    result = run("--model-dir", bundle, "--file", path, "--json")
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["label"] for line in result.stdout.decode().splitlines()] == ["great", "other"]


def test_every_level_can_be_chosen(bundle):
    for level in ("float32", "float16", "dynamic", "int8"):
        result = run(
            "--model-dir", bundle, "--level", level, "--json", "Great coffee, will buy it again soon"
        )
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["label"] == "great", level


def test_empty_text_argument(bundle):
    assert_one_line_error(run("--model-dir", bundle, "fine", ""), "argument 2 has no words")


def test_punctuation_only_has_no_words_either(bundle):
    assert_one_line_error(run("--model-dir", bundle, "!!! ... ???"), "argument 1 has no words")


def test_blank_line_on_stdin(bundle):
    assert_one_line_error(run("--model-dir", bundle, stdin=b"good\n\nbad\n"), "line 2 of stdin has no words")


def test_empty_stdin(bundle):
    assert_one_line_error(run("--model-dir", bundle, stdin=b""), "stdin is empty")


def test_invalid_utf8_on_stdin(bundle):
    assert_one_line_error(
        run("--model-dir", bundle, stdin=b"fine\nbad \xff\xfe bytes\n"), "line 2 of stdin is not valid UTF-8"
    )


def test_invalid_utf8_in_a_file(bundle, tmp_path):
    (tmp_path / "latin1.txt").write_bytes("café crème\n".encode("latin-1"))
    assert_one_line_error(run("--model-dir", bundle, "--file", tmp_path / "latin1.txt"), "is not valid UTF-8")


def test_invalid_utf8_in_an_argument(bundle):
    # the operating system hands Python undecodable argument bytes as lone surrogates
    result = subprocess.run(
        [sys.executable, str(CLIENT), "--model-dir", str(bundle), os.fsdecode(b"caf\xe9")],
        capture_output=True,
        timeout=60,
    )
    assert_one_line_error(result, "argument 1 is not valid UTF-8")


def test_a_one_megabyte_line(bundle):
    line = ("word " * 200_000 + "\n").encode()
    assert len(line) > 1_000_000
    assert_one_line_error(
        run("--model-dir", bundle, stdin=line), "line 1 of stdin is 1,000,000 characters long"
    )


def test_missing_model_folder(tmp_path):
    assert_one_line_error(
        run("--model-dir", tmp_path / "nowhere", "good"), "no LiteRT model", "python convert.py"
    )


def test_missing_input_file(bundle, tmp_path):
    assert_one_line_error(run("--model-dir", bundle, "--file", tmp_path / "nope.txt"), "cannot read")


def test_arguments_and_file_together(bundle, tmp_path):
    assert_one_line_error(run("--model-dir", bundle, "--file", tmp_path / "x.txt", "good"), "not both")


@pytest.fixture
def copy(bundle, tmp_path):
    """A private copy of the bundle to damage."""
    return Path(shutil.copytree(bundle, tmp_path / "bundle"))


def test_corrupt_model_file(copy):
    data = bytearray((copy / "dynamic.tflite").read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte in the weights: still a valid FlatBuffer
    (copy / "dynamic.tflite").write_bytes(bytes(data))
    assert_one_line_error(run("--model-dir", copy, "good"), "does not match the bundle's manifest")


def test_truncated_model_whose_manifest_was_updated(copy):
    """Even past the checksum, the runtime's own refusal becomes one line."""
    import hashlib

    (copy / "float32.tflite").write_bytes((copy / "float32.tflite").read_bytes()[:4096])
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["sha256"]["float32"] = hashlib.sha256((copy / "float32.tflite").read_bytes()).hexdigest()
    (copy / "manifest.json").write_text(json.dumps(manifest))
    assert_one_line_error(
        run("--model-dir", copy, "--level", "float32", "good"), "is not a usable LiteRT model"
    )


def test_corrupt_tokenizer_spec(copy):
    (copy / "tokenizer.json").write_text('{"spec_version": 1, "vocab')
    assert_one_line_error(run("--model-dir", copy, "good"), "tokenizer", "is unusable")


def test_int8_answers_a_one_word_review(bundle):
    result = run("--model-dir", bundle, "--level", "int8", "meh")
    assert result.returncode == 0 and result.stderr == b"", result.stderr
    assert result.stdout.decode().split()[-1] == "meh"


@pytest.fixture(scope="module")
def fully_quantized(bundle, tmp_path_factory):
    """The bundle with the int8 model converted without the selective part: every op in int8."""
    from nowwhat.paths import core_dir
    from nowwhat.tflite.convert import converter, representative_ids, run_converter, variant_bundle

    flatbuffer = run_converter(converter("int8", core_dir() / "saved_model", representative_ids()))
    return variant_bundle(tmp_path_factory.mktemp("full-int8") / "model", "int8", flatbuffer)


def test_a_review_the_model_cannot_compute_names_its_line(fully_quantized):
    """Fully quantized, a one-word review's token count rounds to 0 and the int8 DIV kernel refuses."""
    err = assert_one_line_error(
        run("--model-dir", fully_quantized, "--level", "int8", stdin=b"Great coffee, will buy again\nmeh\n"),
        "line 2 of stdin could not be computed by the int8 model",
        "(DIV) failed to invoke",
    )
    assert err.count("failed to invoke") == 1


def test_a_reader_that_leaves_early_is_not_an_error(bundle):
    lines = b"great coffee\n" * 500
    shell = f"{sys.executable} {CLIENT} --model-dir {bundle} | head -1"
    result = subprocess.run(shell, shell=True, input=lines, capture_output=True, timeout=60)
    assert result.stdout.decode().startswith("great") and b"Traceback" not in result.stderr


def test_tensorflow_is_never_imported(bundle):
    """Run the client's main() in a fresh interpreter and look at what it imported."""
    probe = f"""
import runpy, sys
sys.argv = ["classify.py", "--model-dir", {str(bundle)!r}, "great coffee"]
try:
    runpy.run_path({str(CLIENT)!r}, run_name="__main__")
except SystemExit as exit:
    assert exit.code == 0, exit.code
print("IMPORTED", sorted(m for m in sys.modules if m.split(".")[0] in {{"tensorflow", "keras", "nowwhat"}}))
"""
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().splitlines()[-1] == "IMPORTED []"


def test_runs_in_a_venv_holding_only_ai_edge_litert_and_numpy(bundle, tmp_path, test_vectors, bare_venv):
    """A copy of the demo and the bundle, in a virtual environment without TensorFlow: what a device has.

    The environment links the two packages from the workshop's (no download); its Python cannot import
    tensorflow, keras or nowwhat at all, so this proves they are not needed, not just not imported.
    """
    python = bare_venv("ai_edge_litert", "numpy", "numpy.libs")
    check = subprocess.run([python, "-c", "import tensorflow"], capture_output=True, timeout=60)
    assert check.returncode != 0 and b"No module named 'tensorflow'" in check.stderr
    device = tmp_path / "device"
    device.mkdir()
    shutil.copy(CLIENT, device / "classify.py")
    shutil.copytree(bundle, device / "model")
    cases = [c for c in test_vectors if c["ids"] and "\n" not in c["text"] and "\r" not in c["text"]]
    stdin = "".join(c["text"] + "\n" for c in cases).encode()
    for level in ("float32", "dynamic"):
        result = run(  # no --model-dir: the client finds model/ next to itself, as on a device
            "--level",
            level,
            "--json",
            stdin=stdin,
            python=python,
            client_file=device / "classify.py",
        )
        assert result.returncode == 0, result.stderr
        answers = [json.loads(line) for line in result.stdout.decode().splitlines()]
        gaps = [
            abs(answer["probabilities"]["great"] - case["probabilities"][0])
            for answer, case in zip(answers, cases, strict=True)
        ]
        assert len(answers) == len(cases) >= 50 and max(gaps) <= TOLERANCES[level], level
