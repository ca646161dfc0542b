"""Every test in this folder serves the small model of small_model.py through a copy of this demo: the
demo proven on a model that is not the workshop's (another name, three labels), as yours will be."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the demo's clients, from any folder
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from small_model import NAME, export

DEMO = Path(__file__).resolve().parents[1]

#: What a deployment copies: the run command, the clients, the config, and the stand-in server.
FILES = ["run.sh", "tfserving_demo", "devserver", "config"]


@pytest.fixture(scope="session")
def small_model(tmp_path_factory) -> tuple[Path, dict[int, list[list[float]]]]:
    """<model dir>/sentiment/{1,2}/ and Keras' answers for each version."""
    model_dir = tmp_path_factory.mktemp("models")
    return model_dir, {version: export(model_dir, version) for version in (1, 2)}


def copy_demo(into: Path) -> Path:
    """The demo, copied alone into an empty folder, with config/models.config naming the small model:
    the one edit the README's "Your own model" asks for."""
    for name in FILES:
        source, target = DEMO / name, into / name
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, target)
    config = into / "config" / "models.config"
    config.write_text(config.read_text().replace('"reviews"', f'"{NAME}"').replace("/reviews", f"/{NAME}"))
    return into


@pytest.fixture
def copy(tmp_path) -> Path:
    return copy_demo(tmp_path)


def run_command(folder: Path, *args: str, **env: str) -> subprocess.Popen:
    """`./run.sh --server dev ...` in `folder`, with this Python (MODEL_DIR only when given)."""
    environment = {k: v for k, v in os.environ.items() if k != "MODEL_DIR"}
    environment |= {"PYTHON": sys.executable, **env}
    return subprocess.Popen(
        ["./run.sh", "--server", "dev", "--rest-port", "0", "--grpc-port", "0", *args], cwd=folder,
        env=environment, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )


class Running:
    """A started run command: its process, its REST URL and gRPC target, and what it printed."""

    def __init__(self, process: subprocess.Popen):
        self.process, self.lines = process, []
        for line in process.stdout:
            self.lines.append(line)
            if found := re.search(r"REST (http://127\.0\.0\.1:\d+)\s+gRPC (127\.0\.0\.1:\d+)", line):
                self.rest_url, self.grpc_target = found.groups()
            if line.startswith("ready:"):
                return
        pytest.fail(f"./run.sh exited with code {process.wait()} before ready:\n{''.join(self.lines)}")

    def stop(self) -> int:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        finally:
            self.process.stdout.close()


@pytest.fixture(scope="session")
def served(small_model, tmp_path_factory):
    """One run command for the session, on the small model through MODEL_DIR."""
    folder = copy_demo(tmp_path_factory.mktemp("demo"))
    server = Running(run_command(folder, MODEL_DIR=str(small_model[0])))
    yield server
    server.stop()
