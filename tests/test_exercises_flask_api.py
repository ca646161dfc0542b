"""Chapter 02's check: "not yet" on the notebook's untouched starter, right with the solution file, and the
sentence each plausible wrong answer gets. Starter and solution run here as the notebook runs them (the
same source, the same names), through Flask's test client with the exported model."""

from __future__ import annotations

import sys

import nbformat
import pytest

from nowwhat.exercises.flask_api import check_validation_rule, words_read_in_full
from nowwhat.flask_api.server import DEMO_DIR
from nowwhat.workshop.notebooks import NOTEBOOKS, solution_file

sys.path.insert(0, str(DEMO_DIR))

import review_api
from review_model import ReviewModel

NOTEBOOK = nbformat.read(NOTEBOOKS / "02_flask.ipynb", as_version=4)


@pytest.fixture(scope="module")
def model(exports):
    return ReviewModel(exports)


@pytest.fixture(scope="module")
def without_rule(model):
    return review_api.create_app(model)


def run_cell(source: str, model) -> dict:
    """Execute a cell's source with the names the notebook defines before it."""
    names = {"create_app": review_api.create_app, "model": model, "MAX_WORDS": words_read_in_full()}
    exec(compile(source, "<exercise>", "exec"), names)
    return names


def check(names: dict, without_rule):
    return check_validation_rule(names["app"], names["test_a_review_over_the_limit_is_refused"], without_rule)


def test_the_limit_is_what_the_model_reads_in_full(exports):
    assert words_read_in_full() == 300  # 300 words + 299 word pairs = 599 tokens ≤ 600; 301 give 601


def test_the_untouched_starter_is_not_yet(model, without_rule):
    starter = next(c for c in NOTEBOOK.cells if "exercise" in c.metadata.get("tags", []))
    verdict = check(run_cell(starter.source, model), without_rule)
    assert not verdict and "a review of 301 words (on two lines) was answered 200" in verdict.message


def test_the_solution_is_right(model, without_rule):
    verdict = check(run_cell(solution_file(NOTEBOOK).read_text(), model), without_rule)
    assert verdict, verdict.message
    assert "your test fails on the app without your rule" in verdict.message


def solution_with(model, old: str, new: str) -> dict:
    source = solution_file(NOTEBOOK).read_text()
    assert old in source
    return run_cell(source.replace(old, new), model)


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        ("rules=[at_most_max_words]", "rules=[]", "build the app with create_app(model, rules=[your_rule])"),
        ("text.split()", 'text.split(" ")', "(count them with text.split())"),
        ("words > MAX_WORDS", "words >= MAX_WORDS", "a review of exactly 300 words got 422"),
        ("words > MAX_WORDS", "words > 0", "an ordinary short review got 422"),
        ("return f\"has", "raise ValueError(); return f\"has", "got 500, a server error"),
        ("the model reads at most {MAX_WORDS} in full: shorten it", "too long", "say the limit (300 words)"),
    ],
    ids=["not-registered", "split-on-spaces", "limit-not-inclusive", "refuses-all", "raises", "vague"],
)
def test_a_wrong_rule_gets_its_sentence(model, without_rule, old, new, says):
    verdict = check(solution_with(model, old, new), without_rule)
    assert not verdict and says in verdict.message, verdict.message


def test_a_test_that_cannot_fail_is_not_yet(model, without_rule):
    names = solution_with(model, "    assert answer.status_code == 422", "    return\n    assert False")
    verdict = check(names, without_rule)
    assert not verdict and "your test passes on the app without your rule too" in verdict.message


def test_a_test_that_fails_on_the_right_app_is_not_yet(model, without_rule):
    names = solution_with(model, "answer.status_code == 422", "answer.status_code == 400")
    verdict = check(names, without_rule)
    assert not verdict and verdict.message.startswith("your test fails on your own app (AssertionError")


def test_a_refusal_answered_by_hand_is_not_a_problem(model, without_rule):
    app = review_api.create_app(model)

    @app.before_request
    def too_long():
        from flask import request

        if len((request.get_json(silent=True) or {}).get("text", "").split()) > 300:
            return {"error": "too long"}, 422

    names = {"app": app, "test_a_review_over_the_limit_is_refused": lambda client: None}
    verdict = check(names, without_rule)
    assert not verdict and "is not a problem-details JSON" in verdict.message


def test_wrong_arguments_are_not_yet(without_rule):
    verdict = check_validation_rule(None, None, without_rule)
    assert not verdict and "pass the app" in verdict.message
