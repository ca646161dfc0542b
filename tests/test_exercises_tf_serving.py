"""Chapter 03's check against a running development server: not yet on the untouched config, right
after the solution file's edit, and the sentences plausible wrong answers get."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import requests

from nowwhat.exercises.tf_serving import check_promoted

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
SOLUTION = Path(__file__).parents[1] / "notebooks" / "solutions" / "03_tf_serving.py"


@pytest.fixture(scope="module")
def server(exports):
    from tfserving_demo.run import serve

    from nowwhat.tf_serving.models import load, models_dir

    load()
    with serve("dev", models_dir(), rest_port=0, grpc_port=0, config_poll_seconds=1) as running:
        yield running


@pytest.fixture
def fresh(server):
    """The server as the notebook leaves it before the exercise: its copy untouched, stable → 1."""
    original = server.model_config.read_text()
    yield server
    server.model_config.write_text(original)
    deadline = time.monotonic() + 30
    while _stable(server) != "1":
        assert time.monotonic() < deadline, "stable did not move back to version 1"
        time.sleep(0.3)


def _stable(server) -> str:
    url = f"{server.rest_url}/v1/models/reviews/labels/stable"
    return requests.get(url, timeout=10).json()["model_version_status"][0]["version"]


def _edit(server, pattern: str, replacement: str) -> None:
    text = server.model_config.read_text()
    edited = re.sub(pattern, replacement, text)
    assert edited != text
    server.model_config.write_text(edited)


def test_the_untouched_starter_is_not_yet(fresh):
    verdict = check_promoted(fresh, fresh.process.pid, timeout=5)
    assert not verdict and "`stable` still names version 1" in verdict.message


def test_the_solution_is_right_and_the_server_was_not_restarted(fresh):
    exec(compile(SOLUTION.read_text(), str(SOLUTION), "exec"), {"server": fresh, "print": lambda *a: None})
    verdict = check_promoted(fresh, fresh.process.pid)
    assert verdict, verdict
    assert _stable(fresh) == "2"


def test_moving_canary_instead_says_so(fresh):
    _edit(fresh, r'(key: "canary"\s+value:) 2', r"\1 1")
    verdict = check_promoted(fresh, fresh.process.pid, timeout=5)
    assert not verdict and "you moved `canary` to version 1" in verdict.message


def test_a_label_on_a_version_that_is_not_the_canary(fresh):
    _edit(fresh, r'(key: "stable"\s+value:) 1', r"\1 3")
    verdict = check_promoted(fresh, fresh.process.pid, timeout=5)
    assert not verdict and "`stable` names version 3" in verdict.message


def test_a_restarted_server_is_not_the_point(fresh):
    exec(compile(SOLUTION.read_text(), str(SOLUTION), "exec"), {"server": fresh, "print": lambda *a: None})
    verdict = check_promoted(fresh, fresh.process.pid + 1, timeout=5)
    assert not verdict and "the server was restarted" in verdict.message


def test_a_broken_edit_says_undo_it(fresh):
    _edit(fresh, r'(key: "stable"\s+value:) 1', r"\1 two")
    verdict = check_promoted(fresh, fresh.process.pid, timeout=5)
    assert not verdict and "no longer parses" in verdict.message
