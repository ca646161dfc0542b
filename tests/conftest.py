"""Shared fixtures. Artifacts are built once per session by the package's own CLI, if missing. (Which
tests share this build folder and which have their own: ../conftest.py.)"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import requests

from nowwhat import processes
from nowwhat.paths import export_dir, model_dir


@pytest.fixture(scope="session")
def trained():
    """The manifest of the trained model under <build>/model, training it first if needed."""
    if not (model_dir() / "manifest.json").exists():
        subprocess.run([sys.executable, "-m", "nowwhat", "train", "--quiet"], check=True)
    return json.loads((model_dir() / "manifest.json").read_text())


@pytest.fixture(scope="session")
def exports(trained):
    """The export folder (serving + core SavedModels, tokenizer spec, test vectors), built if needed."""
    if not (export_dir() / "manifest.json").exists():
        subprocess.run([sys.executable, "-m", "nowwhat", "export"], check=True)
    return export_dir()


@pytest.fixture(scope="session")
def test_vectors(exports):
    return json.loads((exports / "tokenizer" / "test_vectors.json").read_text())


@pytest.fixture(scope="session")
def baseline():
    """Chapter 01's baseline, fitted again, and the test reviews."""
    from nowwhat.baseline import fit
    from nowwhat.data import load_splits

    splits = load_splits()
    return fit(splits), splits.texts("test")


@pytest.fixture
def bare_venv(tmp_path):
    """Makes a virtual environment holding only the given packages (linked from this one: no download),
    as on a device, and returns its python: anything else, TensorFlow included, cannot be imported there."""

    def make(*packages: str) -> str:
        folder = tmp_path / "bare-venv"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=120)
        site = Path(sysconfig.get_paths()["purelib"])
        target = next((folder / "lib").glob("python3*/site-packages"))
        for name in packages:
            if (site / name).exists():
                (target / name).symlink_to(site / name)
        return str(folder / "bin" / "python")

    return make


@pytest.fixture(scope="module")
def jupyter(tmp_path_factory):
    """`jupyter server` on 127.0.0.1 with a token, Binder's kind of base URL, and its own config, data and
    runtime folders → {url, base_url, token, pid, root, runtime}. Extensions that are installed are on,
    as on Binder (jupyter-server-proxy among them)."""
    tmp = tmp_path_factory.mktemp("jupyter")
    (tmp / "root").mkdir()
    token, port, base_url = secrets.token_hex(16), processes.free_port(), "/user/learner/"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")},
        **{f"JUPYTER_{kind.upper()}_DIR": str(tmp / kind) for kind in ("config", "runtime", "data")},
    }
    argv = [
        str(Path(sys.executable).with_name("jupyter")), "server", "--no-browser", "--allow-root",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.base_url={base_url}",
        f"--ServerApp.root_dir={tmp / 'root'}",
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}{base_url}"
    headers = {"Authorization": f"token {token}"}
    process, log = processes.start_ready(
        argv, tmp, env, tmp / "server.log",
        lambda: requests.get(f"{url}api/status", headers=headers, timeout=5).ok, 60, "jupyter server",
    )  # fmt: skip
    yield {"url": url, "base_url": base_url, "token": token, "pid": process.pid, "root": tmp / "root",
           "runtime": tmp / "runtime"}  # fmt: skip
    processes.stop(process, timeout=15, whole_group=True)
    log.close()
