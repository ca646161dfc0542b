"""Two kinds of test by build folder, for the whole suite (tests/ and the notebooks under nbval): most
share the session's (a fresh temporary folder unless $NOWWHAT_BUILD names one; the fixtures in
tests/conftest.py build what they need into it), while the notebooks (under nbval, and under papermill in
tests/test_notebooks.py) each run in a build folder of their own. Nothing goes to the repository's
build/. `make test` runs the two kinds side by side in two pytest-xdist processes, which is safe only
because they share no build folder.
"""

from __future__ import annotations

import os

import pytest

#: What works in a build folder of its own: nbval's notebooks, and papermill's run in a fresh one.
OWN_BUILD = ("notebooks/", "tests/test_notebooks.py")


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    """The session's build folder: a temporary one (pytest keeps the last three runs' under its basetemp),
    set before any test or pytest-xdist worker starts, so every worker and child process sees it."""
    if not os.environ.get("NOWWHAT_BUILD") and not hasattr(config, "workerinput"):
        os.environ["NOWWHAT_BUILD"] = str(config._tmp_path_factory.mktemp("build", numbered=True))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Two groups, each sent whole to one worker in collection order (a notebook's cells share a kernel)."""
    from xdist.scheduler import LoadScopeScheduling

    class ByBuildFolder(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "own-build" if nodeid.startswith(OWN_BUILD) else "shared-build"

    return ByBuildFolder(config, log)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Before nbval starts the first notebook's kernel: the notebooks get a fresh build folder, so they
    run in order from nothing, in full mode, as a learner's `make workshop` does (kernels inherit it)."""
    if item.path.suffix == ".ipynb" and not getattr(item.config, "_nowwhat_notebook_build", None):
        folder = item.config._tmp_path_factory.mktemp("notebooks-build")
        item.config._nowwhat_notebook_build = folder
        os.environ["NOWWHAT_BUILD"] = str(folder)
