"""`make binder-check`'s parts that run without building Binder's image: notebooks executed through a real
Jupyter server's API, as a learner's browser runs them; its stand-in Dockerfile; the cgroup it reads; the
README table generated from its results file."""

from __future__ import annotations

import nbformat
import pytest
import requests

from nowwhat.workshop import binder_check
from nowwhat.workshop.binder_check import CgroupMemory, debian_name
from nowwhat.workshop.remote_kernel import JupyterServer, run_notebook


def _write(root, name: str, *cells: str) -> str:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.cells.insert(0, nbformat.v4.new_markdown_cell("# a notebook"))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, root / name)
    return name


@pytest.fixture(scope="module")
def server(jupyter):
    return JupyterServer(jupyter["url"], jupyter["token"])


def _sessions(server) -> list:
    return server.api("GET", "api/sessions").json()


@pytest.mark.timeout(120)
def test_every_cell_runs_in_the_notebook_s_folder_and_the_kernel_is_shut_down(jupyter, server):
    (jupyter["root"] / "chapter").mkdir()
    (jupyter["root"] / "chapter" / "data.txt").write_text("42")
    path = _write(
        jupyter["root"] / "chapter", "ok.ipynb", "x = int(open('data.txt').read())", "assert x == 42"
    )
    lines = []
    result = run_notebook(server, f"chapter/{path}", progress=lines.append)
    assert result["status"] == "ok" and result["cells"] == 2, result
    assert lines == ["  cell 1/2 ok", "  cell 2/2 ok"]
    assert _sessions(server) == [] and server.api("GET", "api/kernels").json() == []


@pytest.mark.timeout(120)
def test_an_error_stops_the_run_and_names_its_cell(jupyter, server):
    path = _write(jupyter["root"], "broken.ipynb", "x = 1", "raise ValueError('nope')", "x = 2")
    result = run_notebook(server, path, progress=lambda line: None)
    assert result["status"] == "failed: cell 2: ValueError: nope", result
    assert _sessions(server) == []


@pytest.mark.timeout(120)
def test_a_kernel_that_dies_is_a_failure_not_a_hang(jupyter, server):
    """What an out-of-memory kill looks like from the browser's side: the kernel process vanishes."""
    path = _write(jupyter["root"], "killed.ipynb", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    result = run_notebook(server, path, timeout=60, progress=lambda line: None)
    assert result["status"].startswith("failed: cell 1: the kernel died"), result
    assert _sessions(server) == []  # closed even while the server restarts the kernel


def test_a_wrong_token_is_refused_with_a_clear_error(jupyter):
    from nowwhat.errors import NowWhatError

    with pytest.raises(NowWhatError, match=r"refused GET api/contents/x\.ipynb: 403"):
        run_notebook(JupyterServer(jupyter["url"], "wrong"), "x.ipynb")
    assert requests.get(jupyter["url"] + "api/status", timeout=5).status_code == 403


# --- The stand-in image --------------------------------------------------------------------------------


def test_the_stand_in_follows_binder_s_files_in_repo2docker_s_order():
    text = binder_check.dockerfile()
    assert text.startswith("# A LOCAL STAND-IN") and "nowwhat.stand-in-for=" in text
    installed = text.split("apt-get install --yes --no-install-recommends ")[1].split(" \\")[0].split()
    assert {debian_name(p) for p in binder_check.apt_packages()} <= set(installed)
    assert "libasound2" in installed and "libasound2t64" not in installed  # Debian 12's spelling
    assert "chromium" in installed  # in place of Playwright's download (postBuild's stand-in branch)
    order = [
        "COPY --chown=1000:1000 src/binder/requirements.txt", "pip install -r binder/requirements.txt",
        "COPY --chown=1000:1000 src/ /home/jovyan/", "NOWWHAT_BINDER_STAND_IN=1 ./binder/postBuild",
        'ENTRYPOINT ["/home/jovyan/binder/start"]',
    ]  # fmt: skip
    assert [text.index(step) for step in order] == sorted(text.index(step) for step in order)
    assert "USER jovyan" in text and text.index("USER jovyan") < text.index("pip install -r binder")


def test_the_stand_in_branches_of_post_build_replace_only_the_downloads():
    post_build = (binder_check.BINDER / "postBuild").read_text()
    assert post_build.count("NOWWHAT_BINDER_STAND_IN") == 2
    branch = post_build.split('if [[ -n "${NOWWHAT_BINDER_STAND_IN:-}" ]]; then')[1].split("fi")[0]
    assert "ln -sf /usr/bin/chromium" in branch and "else\n  python -m playwright install chromium" in branch
    assert 'if [[ -z "${NOWWHAT_BINDER_STAND_IN:-}" ]]; then\n  binder/install-tf-serving' in post_build


def test_the_build_context_is_the_repository_as_git_knows_it(tmp_path):
    context = binder_check.make_context(tmp_path / "context")
    src = context / "src"
    for wanted in (
        "binder/postBuild",
        "binder/requirements.txt",
        "notebooks/00_overview.ipynb",
        "requirements.txt",
        "constraints.txt",
        "src/nowwhat/__init__.py",
    ):
        assert (src / wanted).is_file(), wanted
    assert not (src / "build").exists() and not (src / ".venv").exists() and not (src / ".git").exists()
    assert not (src / "demos" / "tfjs" / "node_modules").exists()
    assert (context / "Dockerfile").read_text() == binder_check.dockerfile()
    python = context / "python"  # this machine's CPython, without the packages installed into it
    assert (python / "bin" / "python3").exists() and not list(python.glob("lib/python3*/site-packages"))


# --- The container's memory cgroup -----------------------------------------------------------------------


def _cgroup_v1(folder, usage: int, inactive: int, oom_kill: int = 0):
    folder.mkdir()
    files = {
        "memory.limit_in_bytes": str(2 * 1024**3), "memory.usage_in_bytes": str(usage),
        "memory.max_usage_in_bytes": str(usage + 5),
        "memory.stat": f"cache 9\ntotal_inactive_file {inactive}\n",
        "memory.oom_control": f"oom_kill_disable 0\nunder_oom 0\noom_kill {oom_kill}\n",
    }  # fmt: skip
    for name, text in files.items():
        (folder / name).write_text(text)
    return CgroupMemory(folder)


def test_the_working_set_is_usage_less_the_inactive_page_cache(tmp_path):
    cgroup = _cgroup_v1(tmp_path / "v1", usage=1000, inactive=300, oom_kill=2)
    assert (cgroup.limit(), cgroup.usage(), cgroup.peak()) == (2 * 1024**3, 1000, 1005)
    assert cgroup.working_set() == 700 and cgroup.oom_kills() == 2
    cgroup.reset_peak()
    assert (tmp_path / "v1" / "memory.max_usage_in_bytes").read_text() == "0"


def test_cgroup_v2_files_are_read_too(tmp_path):
    folder = tmp_path / "v2"
    folder.mkdir()
    for name, text in {
        "memory.max": "max",
        "memory.current": "500",
        "memory.peak": "800",
        "memory.stat": "inactive_file 100\n",
        "memory.events": "oom 1\noom_kill 1\n",
    }.items():
        (folder / name).write_text(text)  # fmt: skip
    cgroup = CgroupMemory(folder)
    assert (cgroup.limit(), cgroup.working_set(), cgroup.peak(), cgroup.oom_kills()) == (-1, 400, 800, 1)


def test_this_process_has_a_memory_cgroup_the_reader_finds():
    import os

    cgroup = CgroupMemory.of_process(os.getpid())
    assert cgroup.usage() > 0 and cgroup.working_set() <= cgroup.usage()


# --- Pass or fail, and the README's table ---------------------------------------------------------------


def _report(**changes) -> dict:
    row = {"status": "ok", "seconds": 10.0, "cells": 5, "cgroup_peak_mib": 1200.0,
           "working_set_peak_mib": 1000.0, "oom_kills_so_far": 0}  # fmt: skip
    rows = [{"notebook": nb.name, **row} for nb in binder_check.notebooks()]
    report = {"created": "2026-12-04T22:00:00+00:00", "environment": {"cpus": 2}, "engine": "podman 4.3.1",
              "limit_mib": 2048.0, "pass_peak_mib": 1792.0, "cgroup_limit_mib": 2048.0, "notebooks": rows,
              "oom_kills": 0, "repo2docker": {"repo2docker --engine podman": "failed: x"},
              "tfjs_through_proxy": {"status": "ok", "url": "/user/learner/proxy/8080/", "label": "great",
                                     "bars": 3, "requests": 9}}  # fmt: skip
    for key, value in changes.items():
        report[key] = value
    return report


def test_it_passes_only_when_every_notebook_ran_under_the_line_and_the_page_worked():
    assert binder_check.passed(_report())
    over = _report()
    over["notebooks"][3]["cgroup_peak_mib"] = 1800.0
    assert not binder_check.passed(over)
    assert not binder_check.passed(_report(notebooks=_report()["notebooks"][:-1]))  # one never ran
    assert not binder_check.passed(_report(oom_kills=1))
    assert not binder_check.passed(_report(tfjs_through_proxy={"status": "failed"}))


def test_the_readme_table_has_a_row_per_notebook_from_the_report():
    report = _report()
    report["passed"] = True
    section = binder_check.readme_section(report)
    assert section.startswith(binder_check.BEGIN) and section.endswith(binder_check.END)
    assert section.count("| ok | 1,200 MiB | 1,000 MiB | 10 s |") == len(binder_check.notebooks())
    assert "**passed**" in section and "label `great`, 3 bars" in section
