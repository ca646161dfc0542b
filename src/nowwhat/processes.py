"""The servers the workshop starts for notebooks, benchmarks and tests (gunicorn, the TF.js demo's node
server): each in a process group of its own, dying with the process that started it (a killed kernel
leaves no server behind), and stopped politely, then firmly."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from nowwhat.errors import NowWhatError

#: Its sitecustomize.py keeps Keras' optional imports out of TensorFlow-only servers (see that file).
SERVING_ONLY = Path(__file__).parent / "serving_only"


def serving_only(env: dict) -> dict:
    """`env` for a server that only runs a SavedModel: without pandas, matplotlib, scikit-learn, SciPy."""
    path = os.pathsep.join(filter(None, [str(SERVING_ONLY), env.get("PYTHONPATH")]))
    return {**env, "PYTHONPATH": path}


def die_with_parent() -> None:
    """In the child, before exec: ask Linux to send SIGTERM when the parent process goes away."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def start(argv: list[str], cwd, env: dict, log) -> subprocess.Popen:
    """`argv` in its own process group, output to the open file `log`, no stdin."""
    return subprocess.Popen(
        argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True, preexec_fn=die_with_parent,
    )  # fmt: skip


def stop(process: subprocess.Popen, timeout: float, whole_group: bool = False) -> int:
    """SIGTERM (to the process, or its whole group), then SIGKILL to the group after `timeout` s. The exit
    code."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            if whole_group:
                os.killpg(process.pid, signal.SIGTERM)
            else:
                process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return process.returncode


def free_port() -> int:
    """A loopback port nothing listens on now (for servers that cannot be told to pick one)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_ready(process: subprocess.Popen, ready, timeout: float, what: str, log) -> None:
    """Call `ready()` (true once the server answers; an OSError, such as a refused connection, means not
    yet) until it is; the process exiting first, or `timeout` s passing, is a NowWhatError naming `log`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise NowWhatError(f"{what} exited with status {process.returncode}: see {log}")
        try:
            if ready():
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise NowWhatError(f"{what} was not ready after {timeout:.0f} s: see {log}")


def start_ready(argv: list[str], cwd, env: dict, log_path, ready, timeout: float, what: str):
    """`start` with output to `log_path`, then `wait_until_ready`; the (process, open log) of a server that
    answers, or, if it never does, the server stopped, the log closed and the error raised."""
    log = open(log_path, "w")  # noqa: SIM115 (the caller closes it when it stops the server)
    process = start(argv, cwd, env, log)
    try:
        wait_until_ready(process, ready, timeout, what, log_path)
    except BaseException:
        stop(process, timeout=30, whole_group=True)
        log.close()
        raise
    return process, log
