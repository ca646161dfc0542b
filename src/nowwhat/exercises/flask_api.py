"""Chapter 02's exercise: an input rule of your own, registered with the app factory, and a test for it.

The check drives the learner's app through Flask's test client (no server process, the real model): a
review longer than the model reads in full must get a 4xx problem that says the limit, one at the limit
and an ordinary one must still be answered, and the learner's test must pass on their app and fail on
the app without the rule (a test that cannot fail proves nothing).
"""

from __future__ import annotations

import json

from nowwhat.exercises import Verdict, not_yet, right
from nowwhat.paths import tokenizer_dir
from nowwhat.tokenizer import tokens

ORDINARY = "Rich, smooth coffee. Arrived quickly; would buy again."


def words_read_in_full() -> int:
    """The most words whose tokens (the words, then their word pairs) all fit the model's sequence length:
    past it the model drops tokens without a word, which the exercise's rule turns into a clear refusal."""
    spec = json.loads((tokenizer_dir() / "tokenizer.json").read_text())
    length, words = spec["sequence_length"], spec["sequence_length"]
    while len(tokens("good " * words, spec["ngrams"])) > length:
        words -= 1
    return words


def review_of(words: int) -> str:
    """A review of exactly `words` words on two lines, as reviews come (a line break is whitespace too)."""
    pieces = ["good", "tea"] * (words // 2) + ["good"] * (words % 2)
    return " ".join(pieces[: words // 2]) + "\n" + " ".join(pieces[words // 2 :])


def _problem(response) -> tuple[int, dict]:
    """The status and, if the answer is a problem-details JSON, its body (else {})."""
    body = response.get_json(silent=True) if response.mimetype == "application/problem+json" else None
    return response.status_code, body if isinstance(body, dict) else {}


def _failure(exc: Exception) -> str:
    said = str(exc).strip().splitlines()[0][:100] if str(exc).strip() else ""
    return type(exc).__name__ + (f": {said}" if said else "")


def check_validation_rule(app, test, without_rule) -> Verdict:
    """app: create_app(model, rules=[your rule]); test(client): your test; without_rule: create_app(model)."""
    if not hasattr(app, "test_client") or not callable(test):
        return not_yet("pass the app that create_app returned, then your test function")
    limit = words_read_in_full()
    wrong = _app_refuses_only_long_reviews(app.test_client(), limit)  # a Verdict is falsy: test for None
    return wrong if wrong is not None else _test_tells_them_apart(test, app, without_rule, limit)


def _app_refuses_only_long_reviews(client, limit: int) -> Verdict | None:
    """None when the app refuses limit + 1 words with a clear problem and answers the rest."""
    status, problem = _problem(client.post("/v1/predict", json={"text": review_of(limit + 1)}))
    if status == 500:
        return not_yet(f"a review of {limit + 1} words got 500, a server error: a rule returns a sentence "
                       "to refuse a text; it does not raise")
    if not 400 <= status < 500:
        return not_yet(f"a review of {limit + 1} words (on two lines) was answered {status}: make your rule "
                       f"return a sentence for more than {limit} words (count them with text.split()) and "
                       "build the app with create_app(model, rules=[your_rule])")
    detail = problem.get("detail") if problem.get("status") == status else None
    if not detail:
        return not_yet(f"the {status} for a long review is not a problem-details JSON: refuse through the "
                       "rules hook (return a sentence) instead of answering yourself")
    if str(limit) not in detail or "word" not in detail.lower():
        return not_yet(f"the refusal says {detail!r}: say the limit ({limit} words), so the client knows "
                       "what to send instead")
    if (ordinary := client.post("/v1/predict", json={"text": ORDINARY}).status_code) != 200:
        return not_yet(f"an ordinary short review got {ordinary}: your rule refuses too much")
    if (at_limit := client.post("/v1/predict", json={"text": review_of(limit)}).status_code) != 200:
        return not_yet(f"a review of exactly {limit} words got {at_limit}: the model reads it in full, so "
                       f"refuse only more than {limit} words")
    batch = {"texts": [ORDINARY, review_of(limit + 1)]}
    status, problem = _problem(client.post("/v1/predict/batch", json=batch))
    if not 400 <= status < 500 or not problem.get("detail", "").startswith("texts[1] "):
        return not_yet(f"a batch whose second review is too long got {status}: register the rule with "
                       "create_app(rules=[...]) so that the batch endpoint applies it too")
    return None


def _test_tells_them_apart(test, app, without_rule, limit: int) -> Verdict:
    """The learner's test passes on their app and fails on the app without the rule."""
    try:
        test(app.test_client())
    except Exception as exc:  # the learner's test failing is an answer, not an error of the check
        return not_yet(f"your test fails on your own app ({_failure(exc)}): fix the test or the rule")
    try:
        test(without_rule.test_client())
    except Exception:
        return right(f"a review of more than {limit} words gets a clear 4xx problem that says the limit, "
                     "shorter ones are answered, and your test fails on the app without your rule.")
    return not_yet(f"your test passes on the app without your rule too: assert that a review of {limit + 1} "
                   "words gets a 422 problem")
