"""The Flask demo's image built from its Dockerfile and run with a real engine (`make container-check`):
every platform check passes, nothing is left running, and the demo README's figures come from a recorded
run. Without an engine (none installed) the slow tests say so and are skipped; under CI they fail instead,
because `make test` installs one."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from nowwhat.errors import NowWhatError
from nowwhat.flask_api import containers

CHECKS = [
    "health",
    "parity with Keras",
    "bad requests",
    "non-root",
    "read-only root file system",
    "SIGTERM with requests in flight",
]


@pytest.fixture(scope="module")
def engine():
    try:
        return containers.find_engine()
    except NowWhatError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the container check, but: {exc}")
        pytest.skip(f"no container engine here ({exc})")


@pytest.fixture(scope="module")
def report(engine, exports, tmp_path_factory):
    return containers.check_flask(tmp_path_factory.mktemp("containers"))


def leftovers(engine) -> list[str]:
    """This process's check containers still there (other processes may be running checks of their own)."""
    mine = f"nowwhat-check-{os.getpid()}-"
    listed = engine("ps", "-a", "--filter", f"name={mine}", "--format", "{{.Names}}").stdout
    return listed.split()


def test_the_dockerfile_names_the_base_a_stand_in_can_replace():
    assert containers.base_image(containers.FLASK_DEMO / "Dockerfile") == "python:3.11-slim"


@pytest.mark.parametrize("image", ["python:3.12-slim", "debian:bookworm", "python:latest"])
def test_a_stand_in_is_only_made_for_the_python_debian_12_has(image):
    with pytest.raises(NowWhatError, match=r"can only stand in for python:3\.11-"):
        containers.make_stand_in(containers.Engine("podman", ["false"]), image)


def test_the_command_without_an_export_says_how_to_make_one(tmp_path):
    env = {**os.environ, "NOWWHAT_BUILD": str(tmp_path)}
    command = [sys.executable, "-m", "nowwhat", "flask", "container-check"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: no export in") and "python -m nowwhat export" in result.stderr


def test_the_readme_shows_the_recorded_run_and_every_check_passed_in_it():
    recorded = json.loads(containers.RECORDED.read_text())
    assert [check["name"] for check in recorded["checks"]] == CHECKS
    assert all(check["passed"] for check in recorded["checks"])
    readme = (containers.FLASK_DEMO / "README.md").read_text()
    assert containers.readme_section(recorded) in readme  # generated, never typed
    if recorded["base"]["source"] == "stand-in":
        assert "LOCAL STAND-IN" in containers.readme_section(recorded)


@pytest.mark.slow
@pytest.mark.parametrize("name", CHECKS)
def test_the_image_passes(report, name):
    check = next(c for c in report["checks"] if c["name"] == name)
    assert check["passed"], check["detail"]


@pytest.mark.slow
def test_the_report_names_its_base_image_and_figures(report, engine):
    base = report["base"]
    assert base["image"] == "python:3.11-slim" and base["source"] in ("stand-in", "pulled", "local")
    if base["source"] == "stand-in":
        assert "LOCAL STAND-IN" in base["note"] and "not the official image" in base["note"]
        labels = containers.image_labels(engine, base["image"])
        assert labels[containers.STAND_IN_LABEL] == "python:3.11-slim"
    assert report["image"]["bytes"] > 500e6  # TensorFlow is inside
    assert report["startup_s"] > 0 and report["build_s"] > 0 and report["stop_s"] > 0
    assert leftovers(engine) == []
    assert containers.image_labels(engine, report["image"]["tag"])[containers.EXPORT_LABEL]


@pytest.mark.slow
def test_an_image_without_its_model_fails_with_the_servers_own_error(report, engine):
    broken = containers.Container(engine, report["image"]["tag"], env={"MODEL_DIR": "/nowhere"})
    with broken, pytest.raises(NowWhatError, match=r"stopped while starting.*error: .*nowhere"):
        broken.wait_ready(timeout=60)
    assert leftovers(engine) == []
