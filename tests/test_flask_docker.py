"""The Dockerfile, read without an engine (fast, and wherever the tests run): what it declares, what
.dockerignore lets into the build, and — laid out on disk exactly as its COPY lines say — that the image's
files, environment, command and health check serve the model. test_flask_container.py builds and runs the
image itself with a real engine."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from docker.utils.build import exclude_paths

from nowwhat.flask_api.server import DEMO_DIR, RUN_COMMAND, Server

DOCKERFILE = DEMO_DIR / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) for each instruction: comments dropped, continuation lines joined."""
    lines = [line for line in DOCKERFILE.read_text().splitlines() if not line.lstrip().startswith("#")]
    text = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in text.splitlines() if line.strip()
    ]


def values(name: str) -> list[str]:
    return [args for instruction, args in instructions() if instruction == name]


def image_env() -> dict[str, str]:
    return dict(pair.split("=", 1) for args in values("ENV") for pair in shlex.split(args))


def copies() -> list[tuple[str | None, list[str], str]]:
    """(stage or build context, sources, destination) for every COPY."""
    result = []
    for args in values("COPY"):
        words = args.split()
        stage = next((w.removeprefix("--from=") for w in words if w.startswith("--from=")), None)
        paths = [w for w in words if not w.startswith("--")]
        result.append((stage, paths[:-1], paths[-1]))
    return result


def test_slim_python_base_matching_the_tested_python():
    assert values("FROM") == [f"python:{sys.version_info.major}.{sys.version_info.minor}-slim"]


def test_non_root_gunicorn_with_a_readiness_health_check():
    order = [instruction for instruction, _ in instructions()]
    assert values("USER") == ["app"] and order.index("USER") < order.index("CMD")
    assert values("CMD") == [json.dumps(list(RUN_COMMAND))]  # the run command the notebook starts
    assert "/health/ready" in values("HEALTHCHECK")[0]
    assert values("EXPOSE") == [image_env()["PORT"]]
    assert image_env()["HOST"] == "0.0.0.0"  # inside a container; the run command defaults to 127.0.0.1


def test_the_readme_shows_the_run_command_and_the_dockerfiles_own_docker_commands():
    """One run command (RUN_COMMAND: what the notebook and tests start); one way to build and run an image."""
    readme = (DEMO_DIR / "README.md").read_text()
    assert f"\n{shlex.join(RUN_COMMAND)} " in readme
    header = [line.removeprefix("#").strip() for line in DOCKERFILE.read_text().splitlines()[:10]]
    commands = [line for line in header if line.startswith("docker ")]
    assert [c.split()[1] for c in commands] == ["build", "run"]
    assert all(f"\n{command}\n" in readme for command in commands)
    assert "-p 127.0.0.1:" in commands[1]  # published on the host's loopback only


def test_dockerignore_lets_in_exactly_what_the_image_copies():
    patterns = [
        line
        for line in (DEMO_DIR / ".dockerignore").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    # docker-py's implementation of the .dockerignore rules: the paths a build would send.
    sent = {p for p in exclude_paths(str(DEMO_DIR), patterns) if (DEMO_DIR / p).is_file()}
    sent -= {"Dockerfile", ".dockerignore"}
    copied = {source for stage, sources, _ in copies() if stage is None for source in sources}
    assert sent == copied
    assert "naive_2019_app.py" not in sent


@pytest.mark.slow
def test_the_image_layout_serves_and_passes_its_health_check(tmp_path, exports):
    """Lay out the image's file system as the COPY lines say, then run its CMD and HEALTHCHECK."""
    root = tmp_path / "image"
    contexts = {None: DEMO_DIR, "model": exports}  # --build-context model=../../build/export
    workdir = root / values("WORKDIR")[0].lstrip("/")
    for stage, sources, destination in copies():
        target = root / destination.lstrip("/") if destination.startswith("/") else workdir / destination
        for source in sources:
            origin = contexts[stage] / source
            path = target if not destination.endswith("/") else target / Path(source).name
            path.parent.mkdir(parents=True, exist_ok=True)
            (shutil.copytree if origin.is_dir() else shutil.copy)(origin, path)
    env = {**image_env(), "HOST": "127.0.0.1", "PORT": "0"}
    env["MODEL_DIR"] = str(root / env["MODEL_DIR"].lstrip("/"))
    with Server("production", env=env, cwd=workdir) as server:
        answer = requests.post(
            f"{server.url}/v1/predict", json={"text": "Fresh, fragrant, lovely."}, timeout=10
        )
        assert answer.status_code == 200 and answer.json()["model"]["version"] >= 1
        check = re.sub(r"^(--\S+\s+)*CMD\s+", "", values("HEALTHCHECK")[0])
        port = server.url.rsplit(":", 1)[1]
        probe = subprocess.run(
            ["/bin/sh", "-c", check], env={**env, "PORT": port, "PATH": str(Path(sys.executable).parent)}
        )
        assert probe.returncode == 0
