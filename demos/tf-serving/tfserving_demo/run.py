"""Start a model server for the demo, the best one available, and say loudly which one it is.

In order: a Docker engine (the official `tensorflow/serving` image, through compose.yaml when the
compose plugin is there); a `tensorflow_model_server` binary ($TFSERVING_BIN or on PATH, e.g. from the
official .deb); otherwise the development server in devserver/ (a stand-in, not TF Serving). All three
get the same flags and the same config files from config/, and serve the models under $MODEL_DIR (or
--model-dir; default: models/ beside this folder) as <model dir>/<name>/<version>/saved_model.pb, with
the names, versions and labels config/models.config gives. `serve()` is the same as a context manager,
for notebooks and tests: the server process never outlives it.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

DEMO = Path(__file__).resolve().parents[1]
CONFIG = DEMO / "config"
#: The development server's own folder (package `tfserving_devserver`), put on its PYTHONPATH.
DEVSERVER = DEMO / "devserver"
IMAGE = "tensorflow/serving:2.21.0"
YOUR_OWN = "see README.md, 'Your own model'"
KINDS = {
    "docker": "TensorFlow Serving in Docker (image tensorflow/serving)",
    "binary": "TensorFlow Serving (tensorflow_model_server binary)",
    "dev": "the DEVELOPMENT server (a Python stand-in, NOT TensorFlow Serving)",
    "given": "the server at $TFSERVING_URL / $TFSERVING_GRPC (started elsewhere)",
}


class ModelsMissing(RuntimeError):
    """The model folder lacks what config/models.config asks for: said before any server starts."""


def default_model_dir() -> Path:
    """Where the models are (<model dir>/<name>/<version>/): $MODEL_DIR, else models/ beside this folder."""
    return Path(os.environ.get("MODEL_DIR") or DEMO / "models").resolve()


def versions_in(folder: Path) -> list[int]:
    """The version folders TF Serving would see: integer names holding a saved_model.pb."""
    found = folder.glob("*/saved_model.pb") if folder.is_dir() else []
    return sorted(int(p.parent.name) for p in found if p.parent.name.isdigit())


def check_models(model_dir: Path) -> None:
    """Every model config/models.config names has the versions its policy asks for (at least one)."""
    for name, wanted in configured_versions().items():
        found = versions_in(model_dir / name)
        missing = sorted(set(wanted) - set(found)) if wanted else ([] if found else ["any"])
        if missing:
            asked, there = ", ".join(map(str, wanted)) or "latest", ", ".join(map(str, found)) or "none"
            raise ModelsMissing(
                f"config/models.config serves model {name!r} version(s) {asked}, but "
                f"{shown(model_dir / name)} has version folders: {there} (<version>/saved_model.pb); "
                f"put them there, or pass --model-dir / set MODEL_DIR ({YOUR_OWN})"
            )


def docker_engine() -> bool:
    """A Docker CLI is not enough: the engine must answer (`docker info`)."""
    if not shutil.which("docker"):
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=15).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def compose_plugin() -> bool:
    try:
        return (
            subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=15).returncode == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        return False


def binary() -> str | None:
    return os.environ.get("TFSERVING_BIN") or shutil.which("tensorflow_model_server")


def pick(kind: str = "auto") -> tuple[str, str]:
    """(kind, why): the server to start."""
    if kind != "auto":
        return kind, "asked for"
    if docker_engine():
        return "docker", "a Docker engine answered"
    if found := binary():
        return "binary", f"found {found}"
    return "dev", "no Docker engine answered and no tensorflow_model_server binary was found"


def server_flags(config_dir: str, model_config: str, config_poll_seconds: int = 30) -> list[str]:
    """The flags all three servers get (each is documented in the README)."""
    return [
        f"--model_config_file={model_config}",
        f"--model_config_file_poll_wait_seconds={config_poll_seconds}",
        "--file_system_poll_wait_seconds=2",
        "--allow_version_labels_for_unavailable_models=true",
        "--enable_batching=true",
        f"--batching_parameters_file={config_dir}/batching.config",
        f"--monitoring_config_file={config_dir}/monitoring.config",
    ]


#: Atop the server's own copy of the model config: the file to edit to move a label in a running server.
LOCAL_HEADER = (
    "# The running server's copy of config/models.config (written by ./run.sh), with base_path made\n"
    "# absolute. The server re-reads it every --model_config_file_poll_wait_seconds: edit it to move a\n"
    "# label without a restart. The next ./run.sh writes it afresh from config/models.config.\n"
)


def read_model_config():
    """config/models.config, parsed with TF Serving's own proto (a ModelServerConfig)."""
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    config = model_server_config_pb2.ModelServerConfig()
    return text_format.Parse((CONFIG / "models.config").read_text(), config)


def configured_versions() -> dict[str, list[int]]:
    """{model name: the versions its policy asks for} from config/models.config ([]: the latest one)."""
    return {
        model.name: list(model.model_version_policy.specific.versions)
        for model in read_model_config().model_config_list.config
    }


def first_model() -> str:
    """The name of the first model config/models.config lists: what the clients ask for here."""
    return read_model_config().model_config_list.config[0].name


def local_model_config(models: Path, out: Path | None = None) -> Path:
    """config/models.config with base_path pointing at the local models folder (it must be absolute),
    written to `out` (default <models>/../models.local.config): the copy the server reads and re-reads."""
    from google.protobuf import text_format

    config = read_model_config()
    for model in config.model_config_list.config:
        model.base_path = str(models / model.name)
    out = out or models.parent / "models.local.config"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(LOCAL_HEADER + text_format.MessageToString(config))
    return out


def command(
    kind: str,
    models: Path,
    rest_port: int,
    grpc_port: int,
    config_poll_seconds: int = 30,
    model_config: Path | None = None,
) -> tuple[list[str], dict]:
    """The server's command line; the binary and the dev server read `model_config`, a local copy."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    if kind == "docker":
        env.update(MODEL_DIR=str(models), REST_PORT=str(rest_port), GRPC_PORT=str(grpc_port), IMAGE=IMAGE)
        if compose_plugin():
            return ["docker", "compose", "-f", str(DEMO / "compose.yaml"), "up"], env
        return [
            "docker",
            "run",
            "--rm",
            "-p",
            f"127.0.0.1:{rest_port}:8501",
            "-p",
            f"127.0.0.1:{grpc_port}:8500",
            "-v",
            f"{models}:/models:ro",
            "-v",
            f"{CONFIG}:/config:ro",
            IMAGE,
            *server_flags("/config", "/config/models.config", config_poll_seconds),
        ], env
    flags = [
        f"--port={grpc_port}",
        f"--rest_api_port={rest_port}",
        *server_flags(str(CONFIG), str(local_model_config(models, model_config)), config_poll_seconds),
    ]
    if kind == "binary":
        return [binary() or "tensorflow_model_server", *flags], env
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(DEVSERVER), env.get("PYTHONPATH")]))
    return [sys.executable, "-m", "tfserving_devserver", *flags], env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    kind: str
    why: str
    rest_url: str
    grpc_target: str
    model: str  # the first model config/models.config names (the clients' `model=`)
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    model_config: Path | None = None  # the file this server re-reads: edit it to move a label

    @property
    def description(self) -> str:
        return KINDS[self.kind]

    def log_tail(self, lines: int = 15) -> str:
        if self.log_path is None:
            return "(the server's log went to the terminal)"
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait_ready(self, timeout: float = 180) -> None:
        """Until every model of config/models.config reports each version its policy names (or, with
        no versions named, one version) AVAILABLE: the ports open only after loading."""
        wanted = configured_versions()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the server exited with code {self.process.returncode}:\n{self.log_tail()}"
                )
            if all(self._available(name, versions) for name, versions in wanted.items()):
                return
            time.sleep(0.5)
        raise RuntimeError(
            f"the server was not ready after {timeout:.0f} s (waiting for {wanted} to be AVAILABLE):\n"
            f"{self.log_tail()}"
        )

    def _available(self, name: str, versions: list[int]) -> bool:
        try:
            answer = requests.get(f"{self.rest_url}/v1/models/{name}", timeout=2).json()
            states = answer["model_version_status"]
        except (requests.RequestException, ValueError, KeyError):
            return False
        available = {int(s["version"]) for s in states if s["state"] == "AVAILABLE"}
        return set(versions) <= available if versions else bool(available)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def shown(path: Path) -> str:
    """A path as a learner types it: relative to the current folder when it is below it or one level
    up (a notebook beside build/), else absolute."""
    path = Path(path).resolve()
    return os.path.relpath(path) if path.is_relative_to(Path.cwd().parent) else str(path)


def banner(server: Server) -> str:
    line = "=" * 78
    log = shown(server.log_path) if server.log_path else "below"
    config = ""
    if server.model_config:
        config = f"\n  model config, re-read while it runs: {shown(server.model_config)}"
    return (
        f"{line}\n  MODEL SERVER: {server.description}\n  why: {server.why}\n"
        f"  REST {server.rest_url}   gRPC {server.grpc_target}   log {log}{config}\n{line}"
    )


@contextlib.contextmanager
def serve(
    kind: str = "auto",
    model_dir: Path | None = None,
    rest_port: int = 8501,
    grpc_port: int = 8500,
    timeout: float = 180,
    echo: bool = False,
    config_poll_seconds: int = 30,
):
    """Start the server, wait until the configured versions are AVAILABLE, yield it, always stop it.

    The server's log goes to <model dir>/../logs/, or with `echo` to this terminal (after the banner).
    Each server started here reads its own copy of the model config (<model dir>/../running/), so editing
    it moves labels in this server only; the copy is removed when the server stops."""
    models = Path(model_dir or default_model_dir()).resolve()
    check_models(models)
    kind, why = pick(kind)
    rest_port, grpc_port = rest_port or free_port(), grpc_port or free_port()
    copy = models.parent / "running" / f"models-{rest_port}.config"
    argv, env = command(kind, models, rest_port, grpc_port, config_poll_seconds, copy)
    model_config = CONFIG / "models.config" if kind == "docker" else copy
    urls = f"http://127.0.0.1:{rest_port}", f"127.0.0.1:{grpc_port}", first_model()
    if echo:
        server = Server(kind, why, *urls, model_config=model_config)
        print(banner(server), flush=True)
        server.process = subprocess.Popen(argv, env=env, start_new_session=True)
    else:
        log_path = models.parent / "logs" / f"server-{kind}-{rest_port}.log"
        log_path.parent.mkdir(exist_ok=True)
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        server = Server(kind, why, *urls, process, log_path, model_config)
    atexit.register(server.stop)
    try:
        server.wait_ready(timeout)
        yield server
    finally:
        server.stop()
        atexit.unregister(server.stop)
        copy.unlink(missing_ok=True)


@contextlib.contextmanager
def connect(model_dir: Path | None = None):
    """The server tests talk to: the one at $TFSERVING_URL (gRPC at $TFSERVING_GRPC) when set, else the
    binary at $TFSERVING_BIN when set, else the development server; started ones are stopped after."""
    if url := os.environ.get("TFSERVING_URL"):
        grpc_target = os.environ.get("TFSERVING_GRPC", "")
        yield Server("given", "TFSERVING_URL is set", url.rstrip("/"), grpc_target, first_model())
        return
    with serve("binary" if os.environ.get("TFSERVING_BIN") else "dev", model_dir, 0, 0) as server:
        yield server


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="./run.sh", description=__doc__)
    p.add_argument("--server", choices=("auto", "docker", "binary", "dev"), default="auto")
    p.add_argument(
        "--model-dir",
        type=Path,
        help="the models, as <model dir>/<name>/<version>/ (default: $MODEL_DIR, else models/ here)",
    )
    p.add_argument("--rest-port", type=int, default=8501)
    p.add_argument("--grpc-port", type=int, default=8500)
    args = p.parse_args(argv)
    try:
        with serve(args.server, args.model_dir, args.rest_port, args.grpc_port, echo=True) as server:
            print(
                f"ready: {server.description}; try `curl {server.rest_url}/v1/models/{server.model}`; "
                "Ctrl-C stops it",
                flush=True,
            )
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            server.process.wait()
            print(f"the server stopped (exit code {server.process.returncode}):\n{server.log_tail()}")
            return server.process.returncode or 0
    except KeyboardInterrupt:
        return 0
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
