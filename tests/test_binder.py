"""binder/: repo2docker sees the configuration we mean, and the parts that can run offline do run.

What cannot run here: building the image (no Docker engine) and the downloads in postBuild (Playwright's
Chromium, the TensorFlow Serving .deb). The .deb installer is run against a locally built stand-in .deb.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nowwhat.paths import REPO_ROOT

BINDER = REPO_ROOT / "binder"
REPO2DOCKER = Path(sys.executable).with_name("jupyter-repo2docker")


@pytest.fixture(scope="module")
def dockerfile() -> str:
    """The Dockerfile repo2docker would build on Binder (uid 1000, user jovyan), rendered without Docker."""
    result = subprocess.run(
        [
            str(REPO2DOCKER),
            "--no-build",
            "--debug",
            "--user-id",
            "1000",
            "--user-name",
            "jovyan",
            str(REPO_ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout + result.stderr


def test_repo2docker_builds_python_3_11_on_the_base_apt_txt_was_written_for(dockerfile):
    assert "Building conda environment for python=3.11" in dockerfile
    assert re.search(r"^FROM docker\.io/library/buildpack-deps:24\.04$", dockerfile, re.MULTILINE)


def test_requirements_are_installed_after_the_repository_is_copied(dockerfile):
    """binder/requirements.txt points at ../requirements.txt and ../constraints.txt: they must be there."""
    copy = dockerfile.index("COPY --chown=1000:1000 src/ ${REPO_DIR}/")
    install = dockerfile.index('pip install --no-cache-dir -r "binder/requirements.txt"')
    assert copy < install
    assert '-r "requirements.txt"' not in dockerfile  # binder/ replaces the root files, as intended


def test_apt_packages_post_build_and_start_are_picked_up(dockerfile):
    apt = [line.partition("#")[0].strip() for line in (BINDER / "apt.txt").read_text().splitlines()]
    installed = (
        re.search(r"apt-get install --yes --no-install-recommends ([^&]+) &&", dockerfile).group(1).split()
    )
    assert sorted(filter(None, apt)) == sorted(installed)
    assert dockerfile.index("RUN ./binder/postBuild") > dockerfile.index('-r "binder/requirements.txt"')
    assert 'ENV R2D_ENTRYPOINT="${REPO_DIR}/binder/start"' in dockerfile


def test_binder_requirements_are_the_pinned_workshop_requirements(tmp_path):
    """pip itself reads binder/requirements.txt (offline): it includes the root files and needs nothing
    this environment, made by `make setup`, does not already have at those exact versions."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--no-index",
            "--find-links",
            str(tmp_path),
            "-r",
            str(BINDER / "requirements.txt"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert f"(from -r {REPO_ROOT / 'requirements.txt'} (line" in result.stdout
    assert "Would install" not in result.stdout
    assert "tensorflow-cpu==2.21.0" in (REPO_ROOT / "requirements.txt").read_text()


def _makefile() -> str:
    """The Makefile with its simple `NAME := value` variables expanded."""
    text = (REPO_ROOT / "Makefile").read_text()
    variables = re.findall(r"^(\w+)\s*[:?]?=\s*(\S+)\s*$", text, re.MULTILINE)
    for _ in range(3):  # values may name other variables
        for name, value in variables:
            text = text.replace(f"$({name})", value)
    return text


#: Debian packages `make setup` installs that Binder does not need from apt, and why.
NOT_ON_BINDER = {
    "chromium": "Ubuntu's package is a snap stub; postBuild installs Playwright's Chromium instead",
    "graphviz": "renders the diagrams (make images) and slides, which Binder users do not rebuild",
    **dict.fromkeys(
        ("podman", "runc", "mmdebstrap"),
        "no container engine runs inside a Binder session; notebook 02 then says what to type with Docker",
    ),
}


def test_post_build_does_what_make_setup_does_beyond_requirements():
    post_build = (BINDER / "postBuild").read_text()
    assert post_build.startswith("#!/bin/bash") and "\nset -euo pipefail\n" in post_build
    makefile = _makefile()
    no_deps = re.findall(r"\.venv/bin/python -m pip install --quiet --no-deps (-[re] \S+)", makefile)
    assert {"-r requirements-nodeps.txt", "-e ."} <= set(no_deps)
    for install in no_deps:
        assert f"pip install --no-cache-dir --no-deps {install}\n" in post_build, install
    apt = {line.partition("#")[0].strip() for line in (BINDER / "apt.txt").read_text().splitlines()}
    packages = [p for line in re.findall(r"\$\(APT_INSTALL\) ([^\n]+)", makefile) for p in line.split()]
    assert {"chromium", "graphviz", "wrk", "podman"} <= set(packages)
    for package in packages:
        assert package in apt or package in NOT_ON_BINDER, (
            f"{package}: add it to binder/apt.txt or say why not"
        )
    assert "(cd demos/tfjs && npm ci" in post_build
    mentioned = re.findall(r"(demos/tfjs/[\w./-]+\.(?:txt|json))", post_build)
    for path in {*mentioned, "demos/tfjs/package.json", "demos/tfjs/package-lock.json"}:
        assert (REPO_ROOT / path).is_file(), path
    client = re.search(r"tensorflow-serving-api==(\S+)", (REPO_ROOT / "requirements-nodeps.txt").read_text())
    assert f"binder/install-tf-serving {client.group(1)}\n" in post_build  # server version = client version
    subprocess.run(["bash", "-n", str(BINDER / "postBuild")], check=True)


def test_start_points_the_notebooks_at_chromium_and_runs_the_server_command(tmp_path):
    result = subprocess.run(
        [str(BINDER / "start"), "sh", "-c", 'echo "$NOWWHAT_CHROMIUM"'],
        env={**os.environ, "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert result.stdout.strip() == f"{tmp_path}/.local/bin/chromium"


def _fake_deb(folder: Path, version: str) -> Path:
    """A .deb shaped like the official one: usr/bin/tensorflow_model_server, package metadata."""
    root = folder / f"pkg-{version}"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(
        f"Package: tensorflow-model-server\nVersion: {version}\nArchitecture: all\n"
        "Maintainer: test <test@example.com>\nDescription: stand-in for the test\n"
    )
    server = root / "usr" / "bin" / "tensorflow_model_server"
    server.parent.mkdir(parents=True)
    server.write_text(f'#!/bin/sh\necho "TensorFlow ModelServer: {version}"\n')
    server.chmod(0o755)
    deb = folder / f"tensorflow-model-server_{version}_all.deb"
    subprocess.run(
        ["dpkg-deb", "--build", "--root-owner-group", str(root), str(deb)], check=True, capture_output=True
    )
    return deb


@pytest.mark.skipif(not shutil.which("dpkg-deb"), reason="needs dpkg-deb (Debian/Ubuntu)")
def test_the_tf_serving_installer_unpacks_the_pinned_deb_without_root(tmp_path):
    prefix = tmp_path / "local"
    env = {
        **os.environ,
        "PREFIX": str(prefix),
        "TF_SERVING_DEB_URL": f"file://{_fake_deb(tmp_path, '2.21.0')}",
    }
    installer = str(BINDER / "install-tf-serving")
    result = subprocess.run([installer, "2.21.0"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "TensorFlow ModelServer: 2.21.0"
    assert (prefix / "bin" / "tensorflow_model_server").resolve() == (
        prefix / "tensorflow-serving" / "usr" / "bin" / "tensorflow_model_server"
    )
    env["TF_SERVING_DEB_URL"] = f"file://{_fake_deb(tmp_path, '2.20.0')}"
    wrong = subprocess.run([installer, "2.21.0"], env=env, capture_output=True, text=True, timeout=60)
    assert wrong.returncode == 1 and "not the pinned 2.21.0" in wrong.stderr
