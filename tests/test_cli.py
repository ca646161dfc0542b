"""The CLI: one-line errors a user can act on, never a traceback, never half-written artifacts."""

import json
import os
import subprocess
import sys

import pytest

from nowwhat.artifacts import staged, write_manifest
from nowwhat.errors import NowWhatError


def cli(*args, build=None):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    if build is not None:
        env["NOWWHAT_BUILD"] = str(build)
    return subprocess.run([sys.executable, "-m", "nowwhat", *args], capture_output=True, text=True, env=env)


def assert_one_line_error(result, *phrases):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    for phrase in phrases:
        assert phrase in errors[0]


def test_evaluate_without_a_model_says_how_to_train(tmp_path):
    assert_one_line_error(cli("evaluate", build=tmp_path), "no trained model", "python -m nowwhat train")


def test_export_without_a_model_says_how_to_train(tmp_path):
    assert_one_line_error(cli("export", build=tmp_path), "python -m nowwhat train")
    assert not (tmp_path / "export").exists()


def test_unwritable_build_folder(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert_one_line_error(cli("data", build=blocker / "build"), "cannot write", "NOWWHAT_BUILD")


def test_artifact_from_an_older_contract_is_refused(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "manifest.json").write_text(
        json.dumps({"kind": "trained model", "contract_version": 0})
    )
    assert_one_line_error(cli("evaluate", build=tmp_path), "contract v0", "python -m nowwhat train")


def test_corrupt_manifest_is_refused(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "manifest.json").write_text("{not json")
    assert_one_line_error(cli("evaluate", build=tmp_path), "unreadable")


@pytest.mark.parametrize("args", [("train", "--epochs", "many"), ("export", "--version", "0"), ("fly",), ()])
def test_bad_arguments_are_usage_errors(args):
    result = cli(*args)
    assert result.returncode == 2 and "usage:" in result.stderr and "Traceback" not in result.stderr


def test_data_command_materialises_csvs(tmp_path):
    result = cli("data", build=tmp_path)
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "data" / "manifest.json").read_text())
    assert manifest["kind"] == "data" and manifest["dropped_train_test_overlap"] == 7
    assert sum(manifest["label_counts"]["test"].values()) == 1000
    assert (tmp_path / "data" / "test.csv").read_text().count("\n") > 1000


def test_failed_write_keeps_the_old_artifact_and_no_debris(tmp_path):
    dest = tmp_path / "artifact"
    with staged(dest) as tmp:
        write_manifest(tmp, "example")
    with pytest.raises(RuntimeError), staged(dest) as tmp:
        (tmp / "half.bin").write_bytes(b"x")
        raise RuntimeError("interrupted")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["artifact"]
    assert sorted(p.name for p in dest.iterdir()) == ["manifest.json"]


def test_wrong_kind_of_artifact_is_refused(tmp_path):
    from nowwhat.artifacts import read_manifest

    write_manifest(tmp_path, "export")
    with pytest.raises(NowWhatError, match="not a trained model"):
        read_manifest(tmp_path, "trained model", "python -m nowwhat train")


@pytest.mark.slow
def test_train_and_export_end_to_end_in_a_fresh_folder(tmp_path):
    trained = cli("train", "--epochs", "2", "--quiet", build=tmp_path)
    assert trained.returncode == 0, trained.stderr
    assert "test accuracy" in trained.stdout
    exported = cli("export", "--version", "3", build=tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert (tmp_path / "export" / "serving" / "reviews" / "3" / "saved_model.pb").exists()
    assert not list(tmp_path.glob(".*"))


def test_every_command_reports_a_fixable_problem_as_one_line_with_status_2(capsys):
    from nowwhat.errors import reports_errors

    @reports_errors
    def main(argv=None):
        raise NowWhatError("no export in build/export: run `python -m nowwhat export`")

    assert main() == 2
    assert capsys.readouterr().err == "error: no export in build/export: run `python -m nowwhat export`\n"
    assert reports_errors(lambda: None)() == 0 and reports_errors(lambda: 1)() == 1
    with pytest.raises(ZeroDivisionError):  # a bug is not a user's problem: it keeps its traceback
        reports_errors(lambda: 1 / 0)()


def test_help_lists_every_chapter_s_verbs():
    from nowwhat.cli import CHAPTERS

    shown = cli("--help")
    assert shown.returncode == 0
    for chapter, verbs in CHAPTERS.items():
        for verb in verbs:
            assert f"\n  {chapter} {verb} " in shown.stdout, (chapter, verb)


@pytest.mark.parametrize(
    ("args", "says"),
    [(("tflite",), "a verb is missing"), (("tflite", "fly"), "unknown verb 'fly'")],
)
def test_a_chapter_without_a_known_verb_is_a_usage_error(args, says):
    result = cli(*args)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "usage: python -m nowwhat tflite {convert,inspect,bench}" in result.stderr
    assert says in result.stderr


def test_a_verb_is_its_module_s_command_line(capsys):
    from nowwhat.cli import CHAPTERS, main

    for chapter, verbs in CHAPTERS.items():
        for verb in verbs:
            with pytest.raises(SystemExit) as exited:
                main([chapter, verb, "--help"])
            assert exited.value.code == 0
            assert f"usage: python -m nowwhat {chapter}" in capsys.readouterr().out


def test_no_document_or_target_uses_a_module_entry_point():
    """One command line: `python -m nowwhat <chapter> <verb>`, never `python -m nowwhat.<module>`."""
    from nowwhat.paths import REPO_ROOT

    kinds = ("*.md", "*.ipynb", "Makefile", "*.json", "*.yaml", "*.mjs", "*.py", "*.sh")
    def ours(path):
        parts = path.relative_to(REPO_ROOT).parts
        return not any(p in ("node_modules", "build") or p.startswith(".") for p in parts[:-1])

    found = [
        f"{path.relative_to(REPO_ROOT)}:{n}"
        for kind in kinds
        for path in REPO_ROOT.rglob(kind)
        if ours(path) and path.name != "test_cli.py"
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if "python -m nowwhat." in line
    ]
    assert not found
