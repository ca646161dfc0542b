"""The Binder memory tool: it runs notebooks and sees what their kernel and its children hold."""

from __future__ import annotations

import json

import nbformat
import pytest

from nowwhat.workshop import memory

HOLD = "import time\nimport numpy as np\nblock = np.ones({mb} * 2**20 // 8)\ntime.sleep(1.0)"
CHILD = (
    "import subprocess, sys\n"
    "subprocess.run([sys.executable, '-c', 'import time; b = bytearray({mb} * 2**20); time.sleep(1.0)'], "
    "check=True)"
)


def _notebook(folder, name: str, *cells: str):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("quick = False")])
    nb.cells[0].metadata["tags"] = ["parameters"]
    nb.cells += [nbformat.v4.new_code_cell(cell) for cell in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.mark.timeout(120)
def test_the_peak_includes_the_kernel_and_the_processes_it_starts(tmp_path):
    idle = memory.measure(_notebook(tmp_path, "idle", "x = 1"), tmp_path / "out")
    held = memory.measure(_notebook(tmp_path, "held", HOLD.format(mb=400)), tmp_path / "out")
    child = memory.measure(_notebook(tmp_path, "child", CHILD.format(mb=300)), tmp_path / "out")
    assert [r["status"] for r in (idle, held, child)] == ["ok"] * 3
    assert 20 < idle["peak_rss_mb"] < 400, idle
    assert held["peak_rss_mb"] - idle["peak_rss_mb"] > 350, (idle, held)
    assert held["peak_pss_mb"] > 350 and held["peak_pss_mb"] <= held["peak_rss_mb"]
    assert child["peak_rss_mb"] - idle["peak_rss_mb"] > 250 and child["peak_processes"] >= 2, (idle, child)
    biggest = child["largest_at_peak"][0]
    assert biggest["process"].startswith("python") and biggest["rss_mb"] > 250, child["largest_at_peak"]


def test_a_failing_notebook_is_reported_not_raised(tmp_path):
    result = memory.measure(_notebook(tmp_path, "broken", "raise ValueError('nope')"), tmp_path / "out")
    assert result["status"].startswith("failed: broken.ipynb failed in cell") and "nope" in result["status"]


def test_the_report_and_the_exit_code(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NOWWHAT_BUILD", str(tmp_path / "build"))
    small = _notebook(tmp_path, "00_small", "x = 1")
    big = _notebook(tmp_path, "01_big", HOLD.format(mb=300))
    monkeypatch.setattr(memory, "notebooks", lambda: [small, big])
    monkeypatch.setattr(memory, "BUDGET_MB", 250)
    assert memory.main(["--interval", "0.05"]) == 1  # 01_big is over this (lowered) budget
    assert "over the 250 MB budget: ['01_big.ipynb']" in capsys.readouterr().err
    report = json.loads((tmp_path / "build" / "memory" / "memory.json").read_text())
    assert [n["notebook"] for n in report["notebooks"]] == ["00_small.ipynb", "01_big.ipynb"]
    assert report["budget_mb"] == 250 and report["interval_s"] == 0.05
    assert report["environment"]["cpus"] >= 1
    assert memory.main(["no-such-notebook"]) == 2


def test_notebooks_run_in_a_fresh_build_folder_and_the_setting_comes_back(tmp_path, monkeypatch):
    monkeypatch.setenv("NOWWHAT_BUILD", str(tmp_path / "mine"))
    with memory.fresh_build() as tmp:
        assert memory.os.environ["NOWWHAT_BUILD"] == str(tmp / "build")
    assert memory.os.environ["NOWWHAT_BUILD"] == str(tmp_path / "mine")
    assert not tmp.exists()


def test_a_chosen_notebook_runs_after_the_foundation_notebooks_unmeasured(tmp_path, monkeypatch):
    monkeypatch.setenv("NOWWHAT_BUILD", str(tmp_path / "build"))
    mark = "import os, pathlib\npath = pathlib.Path(os.environ['NOWWHAT_BUILD']) / 'trained'\n"
    foundation = _notebook(tmp_path, "01_train", mark + "path.parent.mkdir(parents=True)\npath.touch()")
    chapter = _notebook(tmp_path, "02_chapter", mark + "assert path.exists()")
    monkeypatch.setattr(memory, "notebooks", lambda: [foundation, chapter])
    assert memory.main(["02"]) == 0
    report = json.loads((tmp_path / "build" / "memory" / "memory.json").read_text())
    assert [(n["notebook"], n["status"]) for n in report["notebooks"]] == [("02_chapter.ipynb", "ok")]
    assert not (tmp_path / "build" / "trained").exists()  # the notebooks ran in a fresh build folder


def test_processes_are_named_as_people_know_them():
    kernel = ["/x/python", "-m", "ipykernel_launcher", "-f", "kernel.json"]
    assert memory.label("python", kernel) == "python -m ipykernel_launcher"
    assert memory.label("chromium", ["/usr/lib/chromium/chromium", "--type=renderer", "--lang=en"]) == (
        "chromium (renderer)"
    )
    assert memory.label("node", ["node", "/demo/server.mjs", "--port", "0"]) == "node server.mjs"
    assert memory.label("python", ["python", "-c", "pass"]) == "python"
    assert memory.label("python", ["python", "-m"]) == "python"
    assert memory.label("defunct", []) == "defunct"  # a process whose command line is gone


def test_a_process_that_vanishes_while_listed_skips_one_sample():
    import psutil

    def listing():
        raise psutil.NoSuchProcess(pid=999_999)

    assert memory.TreeSampler(processes=listing).sample() == []
