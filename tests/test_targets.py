"""The frameworks × targets table claims only what a test proves: every ✅ and 🟡 names a test that exists
and is not skipped, and scikit-learn goes through at least three targets here."""

from __future__ import annotations

import ast

import pytest

from nowwhat.compare import targets
from nowwhat.paths import REPO_ROOT

BACKED = [(f, t, c) for f, t, c in targets.cells() if c.mark in (targets.TESTED, targets.STAND_IN)]


def test_every_framework_has_a_cell_for_every_target():
    assert all(list(row) == list(targets.TARGETS) for row in targets.TABLE.values())
    assert list(targets.MONITORED) == list(targets.TARGETS)
    assert f"| **{targets.MONITORED_ROW}** |" in targets.table()


@pytest.mark.parametrize(("framework", "target", "cell"), BACKED, ids=[f"{f}-{t}" for f, t, _ in BACKED])
def test_a_tested_cell_names_a_test_that_exists_and_runs(framework, target, cell):
    file, function = cell.test.split("::")
    tree = ast.parse((REPO_ROOT / file).read_text())
    (found,) = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == function]
    marks = [ast.unparse(d) for d in found.decorator_list]
    assert not any("skip" in mark for mark in marks), marks


def test_scikit_learn_is_served_through_three_targets_and_the_stand_in_says_so():
    assert len(targets.served_here("scikit-learn")) >= 3
    stand_in = targets.TABLE["TensorFlow / Keras"]["TF Serving"]
    assert stand_in.mark == targets.STAND_IN and "not run here" in stand_in.says
    assert targets.legend().count("·") == 3 and "| 🟡 |" in targets.table()
    words = targets.table(marks=targets.WORDS)
    assert "| stand-in |" in words and "stand-in: " in targets.legend(targets.WORDS)
