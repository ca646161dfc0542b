"""Chapter 07's exercise check, through promtool: not yet for the starter, right for the solution and for
other correct expressions, and for each usual mistake the scenario that catches it, in one sentence."""

import pytest

from nowwhat.exercises.monitoring import check_refusal_alert
from nowwhat.paths import REPO_ROOT

REQUESTS = "review_api_requests_total"
REFUSED = f'sum(rate({REQUESTS}{{status=~"4.."}}[5m]))'
ALL = f"sum(rate({REQUESTS}[5m]))"
RIGHT_ANSWERS = [
    f"sum(rate(review_api_refusals_total[5m])) / {ALL} > 0.1",
    f"{REFUSED} / {ALL} > 0.10",
]
MISTAKES = {
    # a count of refusals per second, not a share: wrong at low and at high traffic
    f"{REFUSED} > 0.1": "20 % refused, at 10 requests a minute",
    f"{REFUSED} > 0.01": "5 % refused, at 1,000 requests a minute",
    # totals since the start instead of the last 5 minutes
    f'sum({REQUESTS}{{status=~"4.."}}) / sum({REQUESTS}) > 0.1': "a burst of refusals 20 minutes ago",
    # every non-200 is a refusal: server errors too
    f'sum(rate({REQUESTS}{{status!="200"}}[5m])) / {ALL} > 0.1': "server errors",
    # a limit of 1 %, not 10 %
    f"{REFUSED} / {ALL} > 0.01": "the limit is a share of all requests, 10 %",
}


def test_the_untouched_starter_is_not_yet():
    verdict = check_refusal_alert(None)
    assert not verdict and "refusal_alert is not set" in verdict.message


def test_the_solution_is_right():
    scope = {}
    exec((REPO_ROOT / "notebooks" / "solutions" / "07_monitoring.py").read_text(), scope)
    verdict = check_refusal_alert(scope["refusal_alert"])
    assert verdict and "4 scenarios, tested by promtool" in verdict.message


@pytest.mark.parametrize("expr", RIGHT_ANSWERS)
def test_other_correct_expressions_are_right(expr):
    assert check_refusal_alert(expr), expr


@pytest.mark.parametrize(("expr", "caught_by"), MISTAKES.items())
def test_each_mistake_is_caught_by_the_scenario_that_shows_it(expr, caught_by):
    verdict = check_refusal_alert(expr)
    assert not verdict and caught_by in verdict.message, verdict.message


def test_an_expression_prometheus_cannot_parse_quotes_its_error():
    verdict = check_refusal_alert("sum(rate(review_api_requests_total[5m]) > ")
    assert not verdict and "Prometheus cannot read the expression" in verdict.message
    assert "parse error" in verdict.message
    assert not check_refusal_alert("   ") and not check_refusal_alert(42)
