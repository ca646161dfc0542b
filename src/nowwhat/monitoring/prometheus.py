"""A real Prometheus (Debian's `prometheus` package) on a free loopback port, scraping the servers it is
given with demos/monitoring's config and rules, and asked questions through its HTTP API."""

from __future__ import annotations

import math
import shutil
import signal
import tempfile
import time
from pathlib import Path

import requests
import yaml

from nowwhat import processes
from nowwhat.errors import NowWhatError
from nowwhat.paths import REPO_ROOT

DEMO_DIR = REPO_ROOT / "demos" / "monitoring"
INSTALL = "install Prometheus with `make setup-monitoring` (Debian's prometheus package)"


def binary(name: str = "prometheus") -> str:
    found = shutil.which(name)
    if not found:
        raise NowWhatError(f"{name} is not installed: {INSTALL}")
    return found


def config(targets: dict[str, str], interval: str = "1s") -> dict:
    """The demo's prometheus.yml with these jobs (name → host:port, or host:port/metrics/path) and a short
    interval, so a notebook sees results in seconds (the demo's file says 15 s, a usual production value)."""
    document = yaml.safe_load((DEMO_DIR / "prometheus.yml").read_text())
    document["global"] = {"scrape_interval": interval, "evaluation_interval": interval}
    document["rule_files"] = [str(DEMO_DIR / path) for path in document["rule_files"]]
    template = document["scrape_configs"][0]
    document["scrape_configs"] = [scrape_job(template, job, target) for job, target in targets.items()]
    return document


def scrape_job(template: dict, job: str, target: str) -> dict:
    address, slash, path = target.partition("/")
    metrics_path = {"metrics_path": slash + path} if path else {}
    return {**template, "job_name": job, **metrics_path, "static_configs": [{"targets": [address]}]}


class Prometheus:
    """`with Prometheus({"review-api": "127.0.0.1:5000"}) as p: p.query("up")`; stopped on exit, its data
    folder removed."""

    def __init__(self, targets: dict[str, str], interval: str = "1s", timeout: float = 60):
        self.targets, self.interval, self.timeout = targets, interval, timeout
        self.port = processes.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.folder = Path(tempfile.mkdtemp(prefix="prometheus-"))
        self.log_path = self.folder / "prometheus.log"
        self.process = None

    def __enter__(self) -> Prometheus:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def write_config(self) -> Path:
        config_file = self.folder / "prometheus.yml"
        config_file.write_text(yaml.safe_dump(config(self.targets, self.interval), sort_keys=False))
        return config_file

    def start(self) -> Prometheus:
        """Start and wait until ready (a notebook calls start and stop in different cells)."""
        argv = [
            binary(), f"--config.file={self.write_config()}", f"--web.listen-address=127.0.0.1:{self.port}",
            f"--storage.tsdb.path={self.folder / 'data'}", "--log.level=warn",
        ]  # fmt: skip
        self.process, self.log = processes.start_ready(
            argv, self.folder, {}, self.log_path, lambda: requests.get(self.url + "/-/ready", timeout=2).ok,
            self.timeout, "Prometheus",
        )  # fmt: skip
        return self

    def scrape(self, job: str, target: str, timeout: float = 30) -> None:
        """Add a job (target as in `config`) to the running Prometheus, which re-reads its config on
        SIGHUP, and wait until its first scrape succeeds."""
        self.targets = {**self.targets, job: target}
        self.write_config()
        self.process.send_signal(signal.SIGHUP)
        self.wait_for(f'up{{job="{job}"}}', lambda up: up == 1, timeout)

    def stop(self) -> None:
        if self.process is not None:
            processes.stop(self.process, timeout=30)
            self.log.close()
            self.process = None
        shutil.rmtree(self.folder, ignore_errors=True)

    def query(self, expr: str) -> list[dict]:
        """An instant query: [{"metric": {labels}, "value": float}, ...]; a bad expression is an error
        that quotes Prometheus' own message."""
        answer = requests.get(self.url + "/api/v1/query", params={"query": expr}, timeout=30).json()
        if answer["status"] != "success":
            raise NowWhatError(f"Prometheus refused {expr!r}: {answer.get('error')}")
        return [{"metric": r["metric"], "value": float(r["value"][1])} for r in answer["data"]["result"]]

    def query_range(self, expr: str, start: float, end: float, step: float = 1.0) -> list[dict]:
        """A range query between two Unix times: [{"metric": {labels}, "times": [...], "values": [...]}]."""
        params = {"query": expr, "start": start, "end": end, "step": step}
        answer = requests.get(self.url + "/api/v1/query_range", params=params, timeout=30).json()
        if answer["status"] != "success":
            raise NowWhatError(f"Prometheus refused {expr!r}: {answer.get('error')}")
        return [
            {"metric": r["metric"], "times": [float(t) for t, _ in r["values"]],
             "values": [float(v) for _, v in r["values"]]}
            for r in answer["data"]["result"]
        ]  # fmt: skip

    def value(self, expr: str) -> float:
        """The one number an expression gives (NaN when it gives none)."""
        results = self.query(expr)
        return results[0]["value"] if len(results) == 1 else float("nan")

    def targets_up(self) -> dict[str, bool]:
        return {r["metric"]["job"]: r["value"] == 1 for r in self.query("up")}

    def wait_for(self, expr: str, check=None, timeout: float = 30) -> float:
        """Poll until `expr`'s value passes `check` (by default: until it has a value); the value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.value(expr)
            if check(value) if check else not math.isnan(value):
                return value
            time.sleep(0.5)
        raise NowWhatError(f"{expr!r} did not reach the expected value in {timeout:.0f} s (last: {value})")

    def alerts(self) -> list[dict]:
        """Alerts pending or firing now: [{"name", "state", "labels"}]."""
        answer = requests.get(self.url + "/api/v1/alerts", timeout=30).json()["data"]["alerts"]
        return [
            {"name": a["labels"]["alertname"], "state": a["state"], "labels": a["labels"]} for a in answer
        ]
