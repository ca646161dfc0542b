"""Every command in the README is exercised: run here when cheap, else by the test or CI step named below."""

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from nowwhat.paths import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text()
COMMAND = re.compile(r"^(make |python |npm |cd |\./run\.sh|TFSERVING_URL=)")

#: Cheap enough to run right here → what their output must contain.
RUN_HERE = {
    "python -m nowwhat --help": "refresh-notebooks",
    "python -m nowwhat decide --central yes --gpu no --privacy no --distribute yes": "TensorFlow.js",
}
#: The same, once the LiteRT bundle is converted (a slow step); `build/` stands for this session's folder.
RUN_ON_THE_BUNDLE = {
    'python demos/tflite/classify.py --model-dir build/tflite/model "Great coffee!"': "great",
    'python demos/onnx/classify.py --model-dir build/onnx/sklearn "Great coffee!"': "great",
}
#: Run by a test in this file.
TESTED_HERE = {
    "make lab",
    "python -m nowwhat refresh-notebooks 02",
    "make serve-flask",
    "make serve-tf",
    'make serve-tf RUN_ARGS="--server dev"',
    "./run.sh",
}

#: Commands too slow or too long-running to repeat here → (file that runs them, what it contains).
EXERCISED_ELSEWHERE = {
    "make test": (".ci/run", "make test"),
    "make setup": ("Makefile", "test: setup"),
    "make test-fast": ("Makefile", 'pytest tests -m "not slow"'),  # a subset of `make test`
    "make setup-tfjs": ("Makefile", "EXTRA_SETUP += setup-tfjs"),  # part of every `make setup`
    "npm start -- --port 0": ("tests/test_tfjs_server.py", '"npm", "start"'),
    "python -m nowwhat train": ("tests/test_cli.py", 'cli("train"'),
    "python -m nowwhat export": ("tests/test_cli.py", 'cli("export"'),
    "make workshop": ("tests/test_notebooks.py", "run_all("),  # `python -m nowwhat workshop` = data + run_all
    "cd demos/tfjs && npm start": ("tests/test_tfjs_server.py", '"npm", "start"'),
    "make bench": ("tests/test_compare.py", "bench.run(quick=True"),
    "python -m nowwhat tfjs convert": ("tests/test_tfjs_convert.py", "ensure_converted()"),
    "python -m nowwhat tflite convert": ("tests/test_tflite_convert.py", "ensure_converted(in_child=True)"),
    "python -m nowwhat onnx convert": ("tests/test_onnx.py", "ensure_converted()"),
    "python -m nowwhat mlflow register": ("tests/test_mlflow.py", "ensure_registered(in_child=True)"),
    "make bench-mlserver": ("tests/test_mlserver.py", "bench.load("),  # its accounting, not its speed
    "make slides": ("tests/test_slides.py", "slides.build("),
    "make images": ("tests/test_images.py", "diagrams.main("),
    "make memory": ("tests/test_binder_memory.py", "memory.measure("),
    "make container-check": ("tests/test_flask_container.py", "containers.check_flask("),
    "python -m nowwhat train && python -m nowwhat export": ("tests/test_cli.py", 'cli("export"'),
    "TFSERVING_URL=http://host:8501 TFSERVING_GRPC=host:8500 make test": (
        "demos/tf-serving/tfserving_demo/run.py",
        'os.environ.get("TFSERVING_URL")',
    ),
}


def readme_commands() -> set[str]:
    """Lines of ```bash blocks and inline `code` that start like a command."""
    blocks = re.findall(r"```bash\n(.*?)```", README, flags=re.S)
    lines = [line.split("#")[0].strip() for block in blocks for line in block.splitlines()]
    inline = re.findall(r"`([^`\n]+)`", README)
    return {c for c in lines + inline if c and COMMAND.match(c)}


def test_readme_has_exactly_two_quickstart_commands():
    quickstart = README.split("## Quickstart")[1].split("## ")[0]
    (block,) = re.findall(r"```bash\n(.*?)```", quickstart, flags=re.S)
    assert [line.split("#")[0].strip() for line in block.strip().splitlines()] == [
        "make workshop",
        "make test",
    ]
    assert "make test" in (REPO_ROOT / ".ci" / "run").read_text()


def test_every_command_is_exercised_somewhere():
    accounted = {*RUN_HERE, *RUN_ON_THE_BUNDLE, *TESTED_HERE, *EXERCISED_ELSEWHERE}
    unaccounted = readme_commands() - accounted
    assert not unaccounted, f"README commands no test exercises: {sorted(unaccounted)}"
    for command, (path, needle) in EXERCISED_ELSEWHERE.items():
        assert command in readme_commands(), f"stale entry: {command}"
        assert needle in (REPO_ROOT / path).read_text(), f"{path} no longer runs {command!r}"


def test_every_make_target_in_the_readme_exists():
    targets = set(re.findall(r"^([\w-]+):", (REPO_ROOT / "Makefile").read_text(), flags=re.M))
    used = {m for c in readme_commands() for m in re.findall(r"\bmake ([\w-]+)", c)}
    assert used <= targets, used - targets


@pytest.mark.parametrize(
    "command, expect",
    [*RUN_HERE.items(), *(pytest.param(*item, marks=pytest.mark.slow) for item in RUN_ON_THE_BUNDLE.items())],
)
def test_cheap_readme_commands_run(command, expect, exports):
    assert command in README
    args = [sys.executable, *shlex.split(command)[1:]]
    if command in RUN_ON_THE_BUNDLE:
        from nowwhat.onnx_runtime.convert import ensure_converted as onnx_bundles
        from nowwhat.paths import build_dir
        from nowwhat.tflite.convert import ensure_converted as tflite_bundle

        (onnx_bundles if "demos/onnx/" in command else tflite_bundle)()
        here = build_dir()
        args = [str(here / arg.removeprefix("build/")) if arg.startswith("build/") else arg for arg in args]
    result = subprocess.run(args, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-500:]
    assert expect in result.stdout


@pytest.mark.slow
def test_refresh_notebooks_rewrites_outputs(tmp_path):
    from nowwhat.workshop.notebooks import refresh

    copy = tmp_path / "00_overview.ipynb"
    shutil.copy(REPO_ROOT / "notebooks" / "00_overview.ipynb", copy)
    notebook = json.loads(copy.read_text())
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"] = []
    copy.write_text(json.dumps(notebook))
    refresh(copy)
    outputs = [o for c in json.loads(copy.read_text())["cells"] for o in c.get("outputs") or []]
    assert any("4000 reviews" in "".join(o.get("text", "")) for o in outputs)
    assert not any("absl::InitializeLog" in "".join(o.get("text", "")) for o in outputs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_until(argv, pattern, env=None, timeout=180):
    """Start a long-running README command, wait for `pattern` in its output → (process, match)."""
    process = subprocess.Popen(
        argv,
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        env={**os.environ, **(env or {})},
    )
    deadline, seen = time.monotonic() + timeout, []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        seen.append(line)
        if found := re.search(pattern, line):
            return process, found
        if not line and process.poll() is not None:
            break
    stop(process)
    raise AssertionError(f"{argv} never printed {pattern!r}: {''.join(seen)[-800:]}")


def stop(process) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status


def wait_ok(url: str, timeout: float = 120) -> int:
    """The status of `url` once it answers (servers print their address a moment before they listen)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            return get(url)
        time.sleep(0.5)
    return get(url)


@pytest.mark.slow
def test_make_lab_serves_jupyterlab_on_loopback():
    args = f"LAB_ARGS=--port={free_port()} --no-browser --IdentityProvider.token=readme-test"
    process, found = serve_until(["make", "-s", "lab", args], r"(http://127\.0\.0\.1:\d+)/lab")
    try:
        assert wait_ok(f"{found.group(1)}/api/status?token=readme-test") == 200
    finally:
        stop(process)


@pytest.mark.slow
def test_make_serve_flask_answers(exports):
    port = free_port()
    process, _ = serve_until(["make", "-s", "serve-flask"], r"Booting worker", env={"PORT": str(port)})
    try:
        assert wait_ok(f"http://127.0.0.1:{port}/health/ready") == 200
    finally:
        stop(process)


@pytest.mark.slow
@pytest.mark.parametrize(
    "command", [["make", "-s", "serve-tf"], ["demos/tf-serving/run.sh", "--server", "dev"]]
)
def test_tf_serving_run_command_says_which_server_and_answers(command, exports):
    """`make serve-tf` builds and passes the workshop's models; the demo's own command is given them as
    its README says (--model-dir), with the environment's Python (an activated venv's python3)."""
    from nowwhat.tf_serving import models

    rest, grpc = free_port(), free_port()
    if command[0] == "make":
        env = {"RUN_ARGS": f"--server dev --rest-port {rest} --grpc-port {grpc}"}  # as the README says
    else:
        models.load()
        models = str(models.models_dir())
        command = [*command, "--rest-port", str(rest), "--grpc-port", str(grpc), "--model-dir", models]
        env = {"PYTHON": sys.executable}
    process, _ = serve_until(command, r"^ready:", env=env)
    try:
        assert get(f"http://127.0.0.1:{rest}/v1/models/reviews") == 200
    finally:
        stop(process)
