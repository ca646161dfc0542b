"""Register, alias, serve, call, and bad input: the demo's commands on the small models."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from small_models import LABELS, TEXTS

from conftest import run

MESSAGES = {  # body -> what the 400's message must say (the Keras pyfunc: type hints + its own checks)
    b'{"inputs": [1, 2]}': "Expected type str, but got int",
    b'{"inputs": [null]}': "Expected type str, but got NoneType",
    b'{"inputs": [["nested"]]}': "Expected type str, but got list",
    b'{"inputs": "one review, not a list"}': "Expected list, but got str",
    b'{"inputs": {"text": ["a"]}}': "Expected list, but got dict",
    b'{"inputs": []}': "holds 0 reviews; send between 1 and 64",
    b'{"inputs": [' + b",".join([b'"a"'] * 65) + b"]}": "holds 65 reviews",
    b'{"inputs": ["' + b"a" * 10_001 + b'"]}': "has 10,001 characters; the limit is 10,000",
    b'{"inputs": ["\\ud800"]}': "not valid Unicode text",
    b'{"instances": ["a"]}': "must be a dictionary with 'inputs' key",
    b"[1]": "must be a JSON dictionary",
    b"not json": "valid JSON",
    b"": "valid JSON",
}
HOSTILE = [*MESSAGES, b'{"inputs": ["\\u0000<script>"]}', b'{"inputs": ["' + "🙂".encode() * 5000 + b'"]}',
           b'{"dataframe_split": {"columns": ["x"], "data": [[1]]}}', b'{"inputs": [true, {}]}',
           b"{" * 10_000]


def test_list_shows_both_versions_with_aliases_and_labels(registered):
    listed = run(registered[0], "list")
    assert listed.returncode == 0, listed.stderr[-2000:]
    versions = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(v["version"], v["aliases"], v["framework"]) for v in versions] == [
        (1, ["champion"], "keras"), (2, ["challenger"], "sklearn")]  # fmt: skip
    assert all(v["labels"] == LABELS for v in versions)


def test_champion_answers_with_keras_probabilities(registered, servers):
    status, answer = servers["champion"].invoke({"inputs": TEXTS})
    assert status == 200, answer
    expected = [registered[1][text] for text in TEXTS]
    np.testing.assert_allclose(answer["predictions"], expected, atol=1e-5)


def test_challenger_answers_with_scikit_learn_probabilities(registered, servers):
    status, answer = servers["challenger"].invoke({"inputs": TEXTS})
    assert status == 200, answer
    np.testing.assert_allclose(answer["predictions"], registered[2].predict_proba(TEXTS), atol=1e-9)


@pytest.mark.parametrize("body", MESSAGES, ids=[repr(b[:30]) for b in MESSAGES])
def test_the_keras_model_refuses_bad_input_with_a_clear_400(servers, body):
    status, answer = servers["champion"].invoke(body)
    assert status == 400, answer
    assert MESSAGES[body] in answer["message"]
    assert "stack_trace" not in answer


@pytest.mark.parametrize("alias", ["champion", "challenger"])
def test_hostile_bodies_never_get_a_5xx_or_a_stack_trace(servers, alias):
    for body in HOSTILE:
        status, answer = servers[alias].invoke(body)
        assert status < 500 and "stack_trace" not in answer, (body[:40], status, answer)


def test_the_sklearn_flavour_casts_numbers_to_text(servers):
    """MLflow's schema enforcement turns a number into its text before the pipeline sees it; the sklearn
    flavour has no place for a check of one's own (README, "Bad input")."""
    assert servers["challenger"].invoke({"inputs": [1]}) == servers["challenger"].invoke({"inputs": ["1"]})


def test_moving_an_alias(registered, tmp_path):
    registry = tmp_path / "mlruns"
    shutil.copytree(registered[0] / "mlruns", registry)
    moved = run(registered[0], "--registry", str(registry), "alias", "champion", "2")
    assert moved.returncode == 0, moved.stderr[-2000:]
    listed = run(registered[0], "--registry", str(registry), "list")
    versions = [json.loads(line) for line in listed.stdout.splitlines()]
    aliases = {version["version"]: version["aliases"] for version in versions}
    assert aliases == {1: [], 2: ["challenger", "champion"]}


@pytest.mark.parametrize(
    "args, message",
    [
        (["keras", "--model-dir", "nowhere"], "is not a model folder"),
        (["sklearn", "--pipeline", "missing.joblib", "--labels", "a,b"], "cannot read the pipeline"),
        (["sklearn", "--pipeline", "pipeline.joblib", "--labels", "a,b"],
         "has 3 classes and --labels names 2"),
        (["alias", "champion", "99"], "no version 99"),
    ],
)
def test_command_errors_are_one_line(registered, args, message, tmp_path):
    result = run(registered[0], "--registry", str(tmp_path / "registry"), *args)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and message in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
