"""The Prometheus config and alert rules, checked and unit-tested by promtool (Prometheus' own tool),
and proof that the unit tests decide: a rule with a wrong threshold fails them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[1]
RULES = DEMO / "rules"


def promtool(*args: str, cwd: Path = DEMO) -> subprocess.CompletedProcess:
    if not shutil.which("promtool"):
        pytest.fail("promtool is not installed: `apt-get install prometheus` (Debian/Ubuntu), see README.md")
    return subprocess.run(["promtool", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_the_config_and_its_rule_files_are_valid():
    done = promtool("check", "config", "prometheus.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 1 rule files found" in done.stdout


def test_the_rules_are_valid_and_pass_their_unit_tests():
    checked = promtool("check", "rules", "review_api.rules.yml", cwd=RULES)
    assert checked.returncode == 0 and "SUCCESS: 6 rules found" in checked.stdout, checked.stdout
    tested = promtool("test", "rules", "review_api.test.yml", cwd=RULES)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


@pytest.mark.parametrize(
    ("original", "broken", "failing"),
    [
        ("> 0.05\n", "> 0.1\n", "ReviewApiSlow"),  # a budget of 100 ms would not page at 75 ms
        ('{status=~"5.."}', '{status=~"4..|5.."}', "ReviewApiErrors"),  # refusals counted as errors
        ("for: 30m", "for: 5m", "ReviewApiLabelMixDrift"),  # fires while the tests expect it pending
    ],
)
def test_a_rule_changed_for_the_worse_fails_its_unit_tests(tmp_path, original, broken, failing):
    rules = (RULES / "review_api.rules.yml").read_text()
    assert original in rules
    (tmp_path / "review_api.rules.yml").write_text(rules.replace(original, broken, 1))
    shutil.copy(RULES / "review_api.test.yml", tmp_path)
    done = promtool("test", "rules", "review_api.test.yml", cwd=tmp_path)
    assert done.returncode != 0 and f"alertname: {failing}" in done.stdout + done.stderr, done.stdout
