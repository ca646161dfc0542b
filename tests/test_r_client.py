"""The R client (demos/r-client, Debian's R with httr and jsonlite) against the real prediction API
(demos/flask under gunicorn, the workshop's export): Keras' probabilities, in order, for the test
vectors; and the API's own explanation, in one line, for a review it refuses."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest

from nowwhat.flask_api.server import Server
from nowwhat.paths import REPO_ROOT

pytestmark = pytest.mark.slow
CLIENT = REPO_ROOT / "demos" / "r-client" / "classify.R"


@pytest.fixture(scope="module")
def api(exports):
    with Server("production") as server:
        yield server


def rscript(*args: str) -> subprocess.CompletedProcess:
    found = shutil.which("Rscript")
    assert found, "Rscript is not installed: `make setup` installs it (Debian's r-base-core, httr, jsonlite)"
    return subprocess.run([found, str(CLIENT), *args], capture_output=True, text=True, timeout=120)


def test_r_gets_keras_probabilities_for_the_test_vectors(api, test_vectors, tmp_path):
    cases = [c for c in test_vectors if c["ids"] and "\n" not in c["text"] and "\r" not in c["text"]]
    cases = [c for c in cases if len(c["text"]) <= 10_000]  # the API's limit; longer ones are refused
    (tmp_path / "reviews.txt").write_text("".join(c["text"] + "\n" for c in cases), encoding="utf-8")
    done = rscript("--url", api.url, "--file", str(tmp_path / "reviews.txt"))
    assert done.returncode == 0, done.stderr
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(answers) == len(cases) >= 50
    got = np.array([[a["probabilities"]["great"], a["probabilities"]["other"]] for a in answers])
    assert np.abs(got - np.array([c["probabilities"] for c in cases])).max() <= 1e-5
    labels = [["great", "other"][int(np.argmax(c["probabilities"]))] for c in cases]
    assert [a["label"] for a in answers] == labels


def test_a_review_the_api_refuses_is_its_explanation_in_one_line(api):
    done = rscript("--url", api.url, "Fine tea.", "x" * 10_001)
    assert done.returncode == 2 and done.stdout == "" and "Execution halted" not in done.stderr
    assert done.stderr.startswith("error: the API answered 422: texts[1]") and done.stderr.count("\n") == 1
