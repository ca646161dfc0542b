"""Every chapter from 01 to 08 has one exercise: a starter, a check that says "not yet" on the untouched
starter (its committed output, which nbval reproduces), and a solution file one click away.

That each check passes with its solution is proved by running the notebooks with the solutions in place
(tests/test_notebooks.py)."""

import nbformat
import pytest

from nowwhat.exercises import NOT_YET, RIGHT, not_yet, right
from nowwhat.workshop.notebooks import check_output, notebooks, solution_file

CHAPTERS = [nb for nb in notebooks() if nb.name[:2] != "00"]


def tagged(nb, tag):
    return [i for i, cell in enumerate(nb.cells) if tag in cell.metadata.get("tags", [])]


def test_a_verdict_is_one_line_that_says_right_or_not_yet():
    assert str(right("the label moved.")) == f"{RIGHT} the label moved."
    assert repr(not_yet("stable still points at 1.")) == f"{NOT_YET} stable still points at 1."
    assert right("x") and not not_yet("x")


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda p: p.stem)
def test_the_chapter_has_a_starter_a_check_and_a_solution_in_that_order(notebook):
    nb = nbformat.read(notebook, as_version=4)
    exercise, check, solution = tagged(nb, "exercise"), tagged(nb, "check"), tagged(nb, "solution")
    assert len(exercise) == len(check) == len(solution) == 1, (exercise, check, solution)
    assert exercise[0] < check[0] < solution[0]
    assert "check_" in nb.cells[check[0]].source
    assert nb.cells[solution[0]].metadata.get("jupyter", {}).get("source_hidden") is True, "collapse it"
    path = solution_file(nb)
    assert path.name == f"{notebook.stem}.py" and path.exists()
    assert path.read_text().strip() != nb.cells[exercise[0]].source.strip()


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda p: p.stem)
def test_the_check_says_not_yet_on_the_untouched_starter(notebook):
    """The committed output is the starter's; `# NBVAL_CHECK_OUTPUT` makes nbval reproduce it in CI."""
    nb = nbformat.read(notebook, as_version=4)
    assert nb.cells[tagged(nb, "check")[0]].source.startswith("# NBVAL_CHECK_OUTPUT")
    shown = check_output(nb)
    assert NOT_YET in shown and RIGHT not in shown, shown
