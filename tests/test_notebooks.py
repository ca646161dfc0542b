"""Every notebook is parameterised: papermill runs them all in order, quick=True, in a fresh build folder,
with every exercise solved (the solution file in place of the starter), and every check then says so.

(nbval, configured in pyproject.toml, executes them a second time as committed, in a fresh build folder
of its own (conftest.py): default parameters and the untouched starters, whose checks must say "not yet"
again.)
"""

import json

import nbformat
import pytest

from nowwhat.exercises import NOT_YET, RIGHT
from nowwhat.workshop.notebooks import check_output, notebooks, run_all


def test_chapters_are_numbered_in_order():
    names = [nb.name for nb in notebooks()]
    assert names[:2] == ["00_overview.ipynb", "01_train.ipynb"]
    assert [n[:2] for n in names] == [f"{i:02d}" for i in range(len(names))]


@pytest.mark.parametrize("notebook", notebooks(), ids=lambda p: p.stem)
def test_first_code_cell_is_tagged_parameters_with_quick(notebook):
    nb = nbformat.read(notebook, as_version=4)
    first = next(cell for cell in nb.cells if cell.cell_type == "code")
    assert "parameters" in first.metadata.get("tags", [])
    assert "quick = False" in first.source


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_all_notebooks_run_with_quick_parameters_and_solutions_in_a_fresh_build(tmp_path, monkeypatch):
    monkeypatch.setenv("NOWWHAT_BUILD", str(tmp_path / "build"))
    timings = run_all(tmp_path / "executed", parameters={"quick": True}, solutions=True)
    assert [name for name, _ in timings] == [nb.name for nb in notebooks()]
    trained = json.loads((tmp_path / "build" / "model" / "manifest.json").read_text())
    assert trained["epochs_run"] <= 2  # quick=True reached notebook 01 and shortened training
    executed = nbformat.read(tmp_path / "executed" / "01_train.ipynb", as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and "quick = True" in injected[0].source
    for notebook in notebooks()[1:]:
        executed = nbformat.read(tmp_path / "executed" / notebook.name, as_version=4)
        shown = check_output(executed)
        assert RIGHT in shown and NOT_YET not in shown, f"{notebook.name}: {shown}"
