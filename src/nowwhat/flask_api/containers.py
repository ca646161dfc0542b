"""Chapter 02's image for real: build `demos/flask/Dockerfile` with a container engine, run it on loopback
and check it the way a platform would, then report the image's size and start-up time.

`python -m nowwhat flask container-check` (`make container-check`) → <build>/containers/flask.json.
Checks: the health endpoint and the image's own HEALTHCHECK, answers equal to Keras' on the export's
test vectors, bad requests answered with a 4xx problem (no traceback), a non-root user, a read-only root
file system, and SIGTERM while requests are in flight (every one answered, exit status 0).

The engine is Docker when a Docker engine answers, else podman. The base image the Dockerfile names is
used as it is when it is there or can be pulled. When no registry is reachable, a LOCAL STAND-IN is made
from Debian 12's packages (mmdebstrap) and tagged with that name: Python 3.11 in a venv on PATH, this
machine's CA bundle. It is labelled as a stand-in in the image, in the output and in the report.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from nowwhat.artifacts import machine, replace_section, write_json
from nowwhat.errors import NowWhatError, reports_errors
from nowwhat.flask_api.server import finish, slow_request
from nowwhat.paths import REPO_ROOT, build_dir, export_dir
from nowwhat.processes import free_port

FLASK_DEMO = REPO_ROOT / "demos" / "flask"
#: The run the demo's README shows (`make container-check RECORD=1` writes it and the README's section).
RECORDED = FLASK_DEMO / "container-check.json"
BEGIN = "<!-- container-check: generated from container-check.json by `make container-check RECORD=1` -->"
END = "<!-- /container-check -->"
REPOSITORY = "localhost/nowwhat/review-api"
#: The label every checked image carries: the export folder its model came from (stale ones are removed).
EXPORT_LABEL = "nowwhat.export"
#: The label a stand-in base image carries (its value: the image it stands in for).
STAND_IN_LABEL = "nowwhat.stand-in-for"
#: Debian 12's Python, the only `python:<version>-…` tag a bookworm stand-in can honestly replace.
STAND_IN_PYTHON = "3.11"
INSTALL_HINT = "install Docker, or podman on Debian/Ubuntu: apt-get install podman runc mmdebstrap"


@dataclass
class Engine:
    """A container engine's command line, with the flags this kind of machine needs."""

    name: str
    command: list[str]
    build_flags: list[str] = field(default_factory=list)
    run_flags: list[str] = field(default_factory=list)

    def __call__(self, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
        done = subprocess.run([*self.command, *args], capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise NowWhatError(f"`{self.name} {' '.join(args[:2])}` failed: {last_lines(done.stderr)}")
        return done

    def version(self) -> str:
        return self("version", "--format", "{{.Client.Version}}").stdout.strip()


def last_lines(text: str, n: int = 3) -> str:
    return " | ".join(line.strip() for line in text.strip().splitlines()[-n:]) or "(no output)"


def find_engine() -> Engine:
    """Docker if its engine answers; else podman, with runc and cgroupfs where crun and systemd fail."""
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "info"], capture_output=True, timeout=30).returncode == 0:
        return Engine("docker", [docker], run_flags=["--tmpfs", "/tmp"])
    podman = shutil.which("podman")
    if not podman:
        raise NowWhatError(f"no container engine found: {INSTALL_HINT}")
    command = [podman]
    if shutil.which("runc"):  # crun refuses hybrid cgroups ("cgroups in hybrid mode not supported")
        command += ["--runtime", "runc"]
    if not Path("/run/systemd/system").exists():
        command += ["--cgroup-manager", "cgroupfs"]
    # podman's default nproc limit is above what an unprivileged sandbox may set; keep to common values.
    limits = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]
    # --format docker keeps the HEALTHCHECK (the OCI image format has no field for it).
    return Engine("podman", command, build_flags=["--format", "docker", *limits], run_flags=limits)


def base_image(dockerfile: Path) -> str:
    """The image the Dockerfile's first FROM names."""
    match = re.search(r"^FROM\s+(?:--\S+\s+)*(\S+)", dockerfile.read_text(), flags=re.MULTILINE)
    if not match:
        raise NowWhatError(f"{dockerfile} has no FROM line")
    return match.group(1)


def image_labels(engine: Engine, image: str) -> dict | None:
    """The image's labels ({} for none), or None when the engine has no such image."""
    found = engine("image", "inspect", "--format", "{{json .Config.Labels}}", image, check=False)
    return None if found.returncode else json.loads(found.stdout.strip() or "null") or {}


def ensure_base(engine: Engine, image: str) -> dict:
    """The base image, present or pulled; a labelled local stand-in when no registry answers."""
    labels = image_labels(engine, image)
    if labels is None:
        print(f"pulling {image} …", flush=True)
        pulled = engine("pull", image, check=False, timeout=300)
        if pulled.returncode == 0:
            return {"image": image, "source": "pulled"}
        print(f"  cannot pull it ({last_lines(pulled.stderr, 1)})", flush=True)
        make_stand_in(engine, image)
        labels = image_labels(engine, image)
    if labels.get(STAND_IN_LABEL):
        return {
            "image": image,
            "source": "stand-in",
            "note": f"a LOCAL STAND-IN for {image} built here from Debian 12 packages (mmdebstrap), not the "
            "official image: no registry was reachable",
        }
    return {"image": image, "source": "local"}


def ca_bundle() -> Path | None:
    """The CA bundle this machine trusts (a proxy's own CA included), for the stand-in to trust too."""
    for name in ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
        if os.environ.get(name) and Path(os.environ[name]).is_file():
            return Path(os.environ[name])
    debian = Path("/etc/ssl/certs/ca-certificates.crt")
    return debian if debian.is_file() else None


def make_stand_in(engine: Engine, image: str) -> None:
    """Debian 12, Python 3.11 in a venv on PATH (`python` and `pip`, as in the official image), as `image`."""
    repository, _, tag = image.rpartition(":")
    if repository.split("/")[-1] != "python" or not tag.startswith(f"{STAND_IN_PYTHON}-"):
        raise NowWhatError(f"cannot pull {image} and can only stand in for python:{STAND_IN_PYTHON}-*")
    if not shutil.which("mmdebstrap"):
        raise NowWhatError(
            f"cannot pull {image}, and mmdebstrap (to make a stand-in) is missing: {INSTALL_HINT}"
        )
    print(
        f"making a LOCAL STAND-IN for {image} from Debian 12 packages (mmdebstrap, about a minute) …",
        flush=True,
    )
    hooks = ['chroot "$1" python3 -m venv /opt/python']
    if bundle := ca_bundle():
        hooks = [
            f"upload {bundle} /etc/ssl/certs/ca-certificates.crt",
            *hooks,
            'printf "[global]\\ncert = /etc/ssl/certs/ca-certificates.crt\\n" > "$1/etc/pip.conf"',
        ]
    with tempfile.TemporaryDirectory() as tmp:
        rootfs = Path(tmp) / "rootfs.tar"
        made = subprocess.run(
            [
                "mmdebstrap",
                "--variant=apt",
                "--include=python3,python3-venv,ca-certificates",
                *(f"--customize-hook={hook}" for hook in hooks),
                "bookworm",
                str(rootfs),
            ],
            capture_output=True,
            text=True,
            timeout=900,
        )
        if made.returncode != 0:
            raise NowWhatError(f"mmdebstrap failed: {last_lines(made.stderr)}")
        path = "/opt/python/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        engine(
            "import",
            "--change",
            f"ENV PATH={path}",
            "--change",
            f"LABEL {STAND_IN_LABEL}={image}",
            "--change",
            'CMD ["python3"]',
            str(rootfs),
            image,
        )


def image_tag(model: Path) -> str:
    """One tag per export folder: two build folders checked side by side never swap images."""
    return f"{REPOSITORY}:{hashlib.sha1(str(model.resolve()).encode()).hexdigest()[:12]}"


@contextlib.contextmanager
def one_at_a_time(name: str):
    """A machine-wide lock (two checks must not both make the stand-in base)."""
    with open(Path(tempfile.gettempdir()) / f"nowwhat-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def build(engine: Engine, demo: Path, model: Path, tag: str, log: Path) -> float:
    """`build` the demo's Dockerfile with the model as a second build context; seconds, steps printed."""
    return build_image(
        engine,
        ["--label", f"{EXPORT_LABEL}={model.resolve()}", "--build-context", f"model={model}", "-t", tag,
         str(demo)],
        log,
    )  # fmt: skip


def build_image(engine: Engine, args: list[str], log: Path) -> float:
    """`<engine> build <engine's flags> <args>`, its output to `log` and each step printed; seconds."""
    command = [*engine.command, "build", *engine.build_flags, *args]
    print("$ " + shlex.join([engine.name, *command[len(engine.command) :]]), flush=True)
    start = time.perf_counter()
    with (
        log.open("w") as out,
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process,
    ):
        for line in process.stdout:
            out.write(line)
            if re.match(r"(STEP \d+/\d+|#\d+ \[.*\d+/\d+\])", line):
                print("  " + line.strip()[:100], flush=True)
    if process.returncode != 0:
        raise NowWhatError(f"the image did not build (log: {log}): {last_lines(log.read_text())}")
    return time.perf_counter() - start


def remove_stale(engine: Engine) -> list[str]:
    """Remove checked images whose export folder is gone (a test's temporary build); their tags."""
    listed = engine("images", "--filter", f"label={EXPORT_LABEL}", "--format", "{{.Repository}}:{{.Tag}}")
    stale = []
    for tag in set(listed.stdout.split()):
        labels = image_labels(engine, tag) or {}
        if labels.get(EXPORT_LABEL) and not Path(labels[EXPORT_LABEL]).exists():
            engine("rmi", tag, check=False)
            stale.append(tag)
    return stale


class Container:
    """The image running detached, read-only, published on 127.0.0.1 only; removed on exit."""

    def __init__(self, engine: Engine, image: str, env: dict | None = None):
        self.engine, self.image, self.port, self.env = engine, image, free_port(), env or {}
        self.name = f"nowwhat-check-{os.getpid()}-{self.port}"
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Container:
        args = [
            "run",
            "-d",
            "--name",
            self.name,
            "--read-only",
            *self.engine.run_flags,
            *(f"--env={key}={value}" for key, value in self.env.items()),
            "-p",
            f"127.0.0.1:{self.port}:8080",
            self.image,
        ]
        print("$ " + shlex.join([self.engine.name, *args]), flush=True)
        self.engine(*args)
        return self

    def __exit__(self, *exc) -> None:
        self.engine("rm", "-f", self.name, check=False)

    def state(self, field_: str) -> str:
        return self.engine("inspect", "--format", f"{{{{.State.{field_}}}}}", self.name).stdout.strip()

    def logs(self) -> str:
        done = self.engine("logs", self.name, check=False)
        return done.stdout + done.stderr

    def exec(self, *command: str) -> subprocess.CompletedProcess:
        return self.engine("exec", self.name, *command, check=False)

    def wait_ready(self, timeout: float = 180) -> float:
        """Seconds until /health/ready answers 200 (counted from now)."""
        start = time.perf_counter()
        while time.perf_counter() - start < timeout:
            if self.state("Running") != "true":
                raise NowWhatError(f"the container stopped while starting: {last_lines(self.logs(), 5)}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.url}/health/ready", timeout=2).status_code == 200:
                    return time.perf_counter() - start
            time.sleep(0.25)
        raise NowWhatError(f"not ready after {timeout:.0f} s: {last_lines(self.logs(), 5)}")


@dataclass
class Check:
    name: str
    passed: bool
    detail: str


def check_health(container: Container) -> Check:
    """/health/ready from outside, and the image's own HEALTHCHECK command run by the engine."""
    outside = requests.get(f"{container.url}/health/ready", timeout=5)
    if container.engine.name == "podman":
        own = container.engine("healthcheck", "run", container.name, check=False).returncode == 0
    else:  # Docker runs the HEALTHCHECK itself, every --interval
        deadline = time.time() + 60
        while (status := container.state("Health.Status")) == "starting" and time.time() < deadline:
            time.sleep(1)
        own = status == "healthy"
    return Check(
        "health",
        outside.status_code == 200 and own,
        f"/health/ready {outside.status_code}; the image's HEALTHCHECK {'passes' if own else 'FAILS'}",
    )


def check_parity(container: Container, vectors: list[dict], tolerance: float = 1e-5) -> Check:
    """Every test vector the API accepts is answered with Keras' probabilities; the rest get a 4xx."""
    worst, answered, refused, wrong = 0.0, 0, 0, []
    for vector in vectors:
        reply = requests.post(f"{container.url}/v1/predict", json={"text": vector["text"]}, timeout=30)
        if reply.status_code == 200:
            served = list(reply.json()["probabilities"].values())
            worst = max(worst, max(abs(a - b) for a, b in zip(served, vector["probabilities"], strict=True)))
            answered += 1
        elif 400 <= reply.status_code < 500 and not vector["name"].startswith("test_review"):
            refused += 1
        else:
            wrong.append(f"{vector['name']}: {reply.status_code}")
    passed = not wrong and worst <= tolerance and answered >= len(vectors) - 5
    return Check(
        "parity with Keras",
        passed,
        f"{answered} test vectors answered, max abs. difference {worst:.1e} (tolerance {tolerance:.0e}); "
        f"{refused} refused with a 4xx (empty or no words)" + (f"; wrong: {wrong}" if wrong else ""),
    )


#: (what, method, path, body bytes, content type): requests a client must get a clear 4xx for.
BAD_REQUESTS = [
    ("malformed JSON", "POST", "/v1/predict", b'{"text": ', "application/json"),
    ("empty body", "POST", "/v1/predict", b"", "application/json"),
    ("not JSON", "POST", "/v1/predict", b"text=hello", "application/x-www-form-urlencoded"),
    ("text is a number", "POST", "/v1/predict", b'{"text": 5}', "application/json"),
    (
        "text too long",
        "POST",
        "/v1/predict",
        json.dumps({"text": "good " * 3000}).encode(),
        "application/json",
    ),
    ("body over 1 MB", "POST", "/v1/predict", b'{"text": "' + b"a" * 2_000_000 + b'"}', "application/json"),
    (
        "65 reviews in a batch",
        "POST",
        "/v1/predict/batch",
        json.dumps({"texts": ["ok"] * 65}).encode(),
        "application/json",
    ),
    ("unpaired surrogate", "POST", "/v1/predict", b'{"text": "\\ud800 good"}', "application/json"),
    ("unknown path", "GET", "/v1/../../etc/passwd", b"", "application/json"),
    ("wrong method", "GET", "/v1/predict", b"", "application/json"),
]


def check_bad_requests(container: Container) -> Check:
    """Each bad request gets a 4xx problem document without a traceback, and the server stays up."""
    wrong = []
    for what, method, path, body, content_type in BAD_REQUESTS:
        reply = requests.request(
            method, container.url + path, data=body, timeout=30, headers={"Content-Type": content_type}
        )
        if (
            not (400 <= reply.status_code < 500)
            or "Traceback" in reply.text
            or not reply.headers.get("Content-Type", "").startswith("application/problem+json")
        ):
            wrong.append(f"{what}: {reply.status_code} {reply.headers.get('Content-Type')}")
    alive = requests.get(f"{container.url}/health/ready", timeout=5).status_code == 200
    crashed = "Traceback" in container.logs()
    return Check(
        "bad requests",
        not wrong and alive and not crashed,
        f"{len(BAD_REQUESTS) - len(wrong)}/{len(BAD_REQUESTS)} answered with a 4xx problem; "
        f"server {'still ready' if alive else 'DOWN'}; "
        f"{'a traceback in the log' if crashed else 'no traceback in the log'}"
        + (f"; wrong: {wrong}" if wrong else ""),
    )


def check_non_root(container: Container) -> Check:
    uid = container.exec("id", "-u").stdout.strip()
    pid1 = re.search(r"^Uid:\s+(\d+)", container.exec("cat", "/proc/1/status").stdout, re.MULTILINE)
    pid1_uid = pid1.group(1) if pid1 else "?"
    return Check(
        "non-root",
        uid not in ("", "0") and pid1_uid == uid,
        f"processes run as uid {uid} (gunicorn, PID 1: uid {pid1_uid})",
    )


def check_read_only(container: Container) -> Check:
    flag = container.engine("inspect", "--format", "{{.HostConfig.ReadonlyRootfs}}", container.name).stdout
    write = container.exec("sh", "-c", "touch /srv/app/probe")
    refused = write.returncode != 0 and "Read-only file system" in write.stderr
    return Check(
        "read-only root file system",
        flag.strip() == "true" and refused,
        f"run with --read-only; writing into /srv/app: {write.stderr.strip() or 'ALLOWED'}",
    )


def check_sigterm(container: Container, in_flight: int = 2) -> tuple[Check, float]:
    """SIGTERM while `in_flight` requests are inside workers: each is answered, then exit status 0."""
    socks = [
        slow_request(container.url, f"Still a customer, number {i}: answer me.") for i in range(in_flight)
    ]
    time.sleep(0.5)  # every worker is now inside a request, waiting for the rest of its body
    start = time.perf_counter()
    container.engine("kill", "--signal", "TERM", container.name)
    time.sleep(1.0)
    running = container.state("Running") == "true"
    replies = [finish(*request) for request in socks]
    code = container.engine("wait", container.name, timeout=60).stdout.strip().splitlines()[-1]
    stop_s = time.perf_counter() - start
    answered = sum(reply.startswith(b"HTTP/1.1 200") for reply in replies)
    passed = running and answered == in_flight and code == "0"
    return Check(
        "SIGTERM with requests in flight",
        passed,
        f"{answered}/{in_flight} requests in flight answered 200 after SIGTERM; "
        f"{'still finishing 1 s later' if running else 'GONE 1 s later'}; exit status {code}",
    ), stop_s


def check_flask(out: Path | None = None) -> dict:
    """Build and check the Flask demo's image; write and return the report."""
    out = Path(out or build_dir() / "containers")
    if not (export_dir() / "manifest.json").exists():
        raise NowWhatError(
            f"no export in {export_dir()}: run `python -m nowwhat train && python -m nowwhat export`"
        )
    out.mkdir(parents=True, exist_ok=True)
    engine = find_engine()
    start = time.perf_counter()
    with one_at_a_time("base-image"):
        base = ensure_base(engine, base_image(FLASK_DEMO / "Dockerfile"))
    base["seconds"] = round(time.perf_counter() - start, 1)
    if base["source"] == "stand-in":
        print(f"note: {base['image']} here is {base['note']}", flush=True)
    tag = image_tag(export_dir())
    print(f"building {tag} from {FLASK_DEMO.relative_to(REPO_ROOT)}/Dockerfile (cached layers are reused):")
    build_s = build(engine, FLASK_DEMO, export_dir(), tag, out / "flask-build.log")
    if stale := remove_stale(engine):
        print(f"removed {len(stale)} image(s) of build folders that are gone", flush=True)
    size = int(engine("image", "inspect", "--format", "{{.Size}}", tag).stdout.strip())
    vectors = json.loads((export_dir() / "tokenizer" / "test_vectors.json").read_text())
    with Container(engine, tag) as container:
        print(f"running it on {container.url} …", flush=True)
        startup_s = container.wait_ready()
        checks = [
            check_health(container),
            check_parity(container, vectors),
            check_bad_requests(container),
            check_non_root(container),
            check_read_only(container),
        ]
        sigterm, stop_s = check_sigterm(container)
        checks.append(sigterm)
    report = {
        "demo": "flask",
        "engine": {"name": engine.name, "version": engine.version()},
        "base": base,
        "image": {"tag": tag, "bytes": size},
        "build_s": round(build_s, 1),
        "startup_s": round(startup_s, 1),
        "stop_s": round(stop_s, 1),
        "checks": [vars(check) for check in checks],
        "machine": machine(),
    }
    write_json(out / "flask.json", report)
    return report


def summary(report: dict) -> str:
    lines = [f"{'✓' if c['passed'] else '✗'} {c['name']}: {c['detail']}" for c in report["checks"]]
    lines.append(
        f"image {report['image']['bytes'] / 1e6:,.0f} MB; built in {report['build_s']:.0f} s; "
        f"ready {report['startup_s']:.1f} s after `run`; stopped {report['stop_s']:.1f} s after SIGTERM"
    )
    return "\n".join(lines)


def readme_section(report: dict) -> str:
    """What demos/flask/README.md shows of a run: how it was run, every check, the figures."""
    base = report["base"]
    how = {
        "stand-in": base.get("note"),
        "pulled": "pulled from its registry",
        "local": "already on the machine",
    }
    base_line = f"The base image `{base['image']}`: {how[base['source']]} ({base['seconds']:.0f} s)."
    rows = "\n".join(
        f"| {c['name']} | {'passed' if c['passed'] else 'FAILED'} | {c['detail']} |" for c in report["checks"]
    )
    return f"""{BEGIN}
One run of `make container-check` with {report["engine"]["name"]} {report["engine"]["version"]} on a
{report["machine"]["cpus"]}-core {report["machine"]["machine"]} machine. {base_line}

| check | result | what was seen |
|---|---|---|
{rows}

Image: **{report["image"]["bytes"] / 1e6:,.0f} MB**; built in {report["build_s"]:.0f} s (layers the engine
had cached count as done); ready **{report["startup_s"]:.1f} s** after `run`; exited
{report["stop_s"]:.1f} s after SIGTERM.
{END}"""


def record(report: dict, readme: Path = FLASK_DEMO / "README.md") -> None:
    """Keep this run as the one the README shows, and rewrite the README's section from it."""
    write_json(RECORDED, report)
    replace_section(readme, BEGIN, END, readme_section(report))


@reports_errors
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m nowwhat flask container-check", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--out", type=Path, help="report folder (default: <build>/containers)")
    parser.add_argument(
        "--record",
        action="store_true",
        help=f"maintainers: keep this run as {RECORDED.relative_to(REPO_ROOT)} and in the README",
    )
    args = parser.parse_args(argv)
    report = check_flask(args.out)
    print(summary(report))
    failed = [c["name"] for c in report["checks"] if not c["passed"]]
    if failed:
        raise NowWhatError(f"the image failed: {', '.join(failed)} (see above)")
    if args.record:
        record(report)
        print(f"recorded in {RECORDED.relative_to(REPO_ROOT)} and demos/flask/README.md")
    return 0
