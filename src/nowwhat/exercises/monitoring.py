"""Chapter 07's exercise: write the alert "more than 10 % of prediction requests refused over the last
5 minutes", as a PromQL expression.

The check puts the expression into an alert rule (`for: 5m`) and runs it through `promtool test rules`,
Prometheus' own rule tester, against series of its own, one scenario at a time. Each scenario knows what
a wrong expression gets wrong there, and says so.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import yaml

from nowwhat.exercises import Verdict, not_yet, right
from nowwhat.monitoring.prometheus import binary

ALERT = "TooManyRefusals"


def series(ok: str, refused: str, failed: str = "0x40") -> list[dict]:
    """The API's counters for one scenario: answered (200), refused (422, counted again by reason) and
    failed (500), in promtool's notation (start+increment x steps, one value a minute)."""
    return [
        {"series": 'review_api_requests_total{route="/v1/predict", status="200"}', "values": ok},
        {"series": 'review_api_requests_total{route="/v1/predict", status="422"}', "values": refused},
        {"series": 'review_api_refusals_total{reason="empty"}', "values": refused},
        {"series": 'review_api_requests_total{route="/v1/predict", status="500"}', "values": failed},
    ]


#: (what happens, the series, when to look, must it fire, what a wrong answer got wrong here).
SCENARIOS = [
    (
        "20 % refused, at 10 requests a minute",
        series("0+8x40", "0+2x40"),
        "20m",
        True,
        "it did not fire with 20 % of requests refused for 20 minutes: divide the refused requests by all "
        "requests (a share, whatever the traffic), and compare with 0.1",
    ),
    (
        "5 % refused, at 1,000 requests a minute",
        series("0+950x40", "0+50x40"),
        "20m",
        False,
        "it fired with 5 % refused (50 of 1,000 requests a minute): the limit is a share of all requests, "
        "10 %: divide by all requests and compare with 0.1",
    ),
    (
        "a burst of refusals 20 minutes ago, none since",
        series("0+50x10 500+100x30", "0+50x10 500+0x30"),
        "30m",
        False,
        "it still fires 20 minutes after the last refusal: counters only grow, so a ratio of their totals "
        "remembers every refusal ever made. Take `rate(...[5m])` of each counter: the ratio of the last 5 "
        "minutes",
    ),
    (
        "20 % server errors (5xx), no refusal",
        series("0+80x40", "0x40", failed="0+20x40"),
        "20m",
        False,
        'it fired on server errors: refusals are the 4xx answers (`status=~"4.."`), or '
        "`review_api_refusals_total`; a 5xx is the server's fault and has an alert of its own",
    ),
]


def tests_file(rules: str, scenario) -> dict:
    name, input_series, at, fires, _ = scenario
    expected = [{"exp_labels": {}}] if fires else []
    return {
        "rule_files": [rules],
        "evaluation_interval": "1m",
        "tests": [
            {
                "name": name,
                "interval": "1m",
                "input_series": input_series,
                "alert_rule_test": [{"eval_time": at, "alertname": ALERT, "exp_alerts": expected}],
            }
        ],
    }


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([binary("promtool"), *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def check_refusal_alert(expr) -> Verdict:
    """`expr`: the learner's PromQL expression, true (a non-empty result) when the alert should fire."""
    if not isinstance(expr, str) or not expr.strip():
        return not_yet("refusal_alert is not set: write the PromQL expression as a string, '... > 0.1'.")
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        rule = {"alert": ALERT, "expr": expr, "for": "5m"}
        (folder / "rules.yml").write_text(yaml.safe_dump({"groups": [{"name": "exercise", "rules": [rule]}]}))
        checked = promtool("check", "rules", "rules.yml", cwd=folder)
        if checked.returncode != 0:
            problem = (checked.stderr or checked.stdout).strip().splitlines()[-1]
            return not_yet(f"Prometheus cannot read the expression: {problem.strip()}")
        for scenario in SCENARIOS:
            (folder / "test.yml").write_text(yaml.safe_dump(tests_file("rules.yml", scenario)))
            if promtool("test", "rules", "test.yml", cwd=folder).returncode != 0:
                return not_yet(f"{scenario[0]}: {scenario[4]}.")
    return right(
        f"the alert fires with 20 % refused, and stays quiet at 5 %, after an old burst and on server errors "
        f"({len(SCENARIOS)} scenarios, tested by promtool)."
    )
