"""Peak memory of every notebook: `python -m nowwhat notebooks memory` (`make memory`) → <build>/memory/.

Binder gives a session about 2 GB, shared by the Jupyter server and the kernel, so each notebook must
stay well under that (the budget here: 1.5 GB). The notebooks run in order, as a learner runs them,
in a fresh build folder (notebook 01 trains its own model there), while a thread samples the memory of
the kernel's whole process tree — the kernel and every server, browser or converter it starts — every
0.1 s. RSS counts pages shared between processes once per process (an upper bound); PSS splits them
(closer to what the container is charged). A peak shorter than the interval can be missed.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from nowwhat.artifacts import machine, staged, write_json
from nowwhat.errors import NowWhatError, reports_errors
from nowwhat.paths import build_dir
from nowwhat.workshop.notebooks import notebooks, run

BUDGET_MB = 1536
#: Every later notebook may assume these ran before it in the same build folder (the notebook convention).
FOUNDATION = ("00_", "01_")
MB = 1024 * 1024


def label(name: str, command: list[str]) -> str:
    """A process as a person recognises it: `python -m ipykernel_launcher` (the kernel), `python -m
    gunicorn`, `chromium (renderer)`, `node server.mjs`."""
    if "-m" in command[:-1]:
        return f"{name} -m {command[command.index('-m') + 1]}"
    kind = next((arg.split("=", 1)[1] for arg in command if arg.startswith("--type=")), None)
    if kind:
        return f"{name} ({kind})"
    script = next((Path(arg).name for arg in command[1:2] if not arg.startswith("-")), "")
    return f"{name} {script}".strip()


class TreeSampler:
    """Samples the summed RSS and PSS of a set of processes every `interval` s until stopped; keeps the
    peaks and what ran at the RSS peak. `processes` lists them (psutil.Process objects) at each sample;
    by default every descendant of this process. PSS costs ~20 ms of CPU per sample of a TensorFlow server
    (the kernel walks every page), RSS ~1 ms: benchmarks that only need RSS pass `pss=False`."""

    def __init__(self, interval: float = 0.1, processes: Callable[[], list] | None = None, pss: bool = True):
        import psutil

        self._psutil = psutil
        me = psutil.Process()
        self.processes = processes or (lambda: me.children(recursive=True))
        self.interval, self.pss = interval, pss
        self.peak_rss = self.peak_pss = self.peak_processes = 0
        self.at_peak: list[tuple[str, int, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> list[tuple]:
        """(process, RSS bytes, PSS bytes or 0) of every listed process now; vanished ones are skipped."""
        found = []
        try:
            processes = self.processes()
        except self._psutil.Error:  # one vanished while being listed (by name, say): skip this sample
            return found
        for process in processes:
            with contextlib.suppress(self._psutil.NoSuchProcess, self._psutil.AccessDenied):
                if self.pss:
                    info = process.memory_full_info()
                    # psutil reads RSS, then walks the pages for PSS: a process growing in between shows
                    # PSS > RSS, which cannot be; its RSS by then was at least that PSS.
                    found.append((process, max(info.rss, info.pss), info.pss))
                else:
                    found.append((process, process.memory_info().rss, 0))
        return found

    def _name(self, process) -> str:
        try:
            return label(process.name(), process.cmdline())
        except self._psutil.Error:
            return "(exited)"

    def _run(self) -> None:
        while not self._stop.is_set():
            found = self.sample()
            rss, pss = sum(p[1] for p in found), sum(p[2] for p in found)
            if rss > self.peak_rss:  # what was running at the peak: where to look when it is too high
                named = [(self._name(process), r, s) for process, r, s in found]
                self.peak_rss, self.at_peak = rss, sorted(named, key=lambda p: -p[1])
            self.peak_pss = max(self.peak_pss, pss)
            self.peak_processes = max(self.peak_processes, len(found))
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def measure(notebook: Path, out_dir: Path, parameters: dict | None = None, interval: float = 0.1) -> dict:
    """Run one notebook while sampling its process tree → its peak memory, run time and outcome."""
    start = time.perf_counter()
    status = "ok"
    with TreeSampler(interval) as sampler:
        try:
            run(notebook, out_dir, parameters)
        except (NowWhatError, RuntimeError) as exc:  # a failing cell; a kernel that died (nbclient)
            status = f"failed: {exc}"
    return {
        "notebook": notebook.name,
        "peak_rss_mb": round(sampler.peak_rss / MB, 1),
        "peak_pss_mb": round(sampler.peak_pss / MB, 1),
        "peak_processes": sampler.peak_processes,
        "largest_at_peak": _largest(sampler.at_peak),
        "seconds": round(time.perf_counter() - start, 1),
        "status": status,
    }


def _largest(processes: list[tuple[str, int, int]], top: int = 4) -> list[dict]:
    """The biggest processes at the RSS peak, and how many others (with their total)."""
    shown = [{"process": name, "rss_mb": round(rss / MB, 1)} for name, rss, _ in processes[:top]]
    rest = processes[top:]
    if rest:
        shown.append({"process": f"{len(rest)} more", "rss_mb": round(sum(p[1] for p in rest) / MB, 1)})
    return shown


@contextlib.contextmanager
def fresh_build():
    """A temporary build folder for the kernels (as on a fresh Binder); the old setting is restored after."""
    before = os.environ.get("NOWWHAT_BUILD")
    with tempfile.TemporaryDirectory(prefix="nowwhat-memory-") as tmp:
        os.environ["NOWWHAT_BUILD"] = str(Path(tmp) / "build")
        try:
            yield Path(tmp)
        finally:
            if before is None:
                os.environ.pop("NOWWHAT_BUILD", None)
            else:
                os.environ["NOWWHAT_BUILD"] = before


def report(results: list[dict], quick: bool, interval: float) -> dict:
    return {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "environment": machine(),
        "budget_mb": BUDGET_MB,
        "interval_s": interval,
        "parameters": {"quick": quick},
        "notebooks": results,
    }


def _line(r: dict) -> str:
    peaks = f"peak RSS {r['peak_rss_mb']:.0f} MB, PSS {r['peak_pss_mb']:.0f} MB"
    return f"{peaks}, {r['seconds']:.0f} s: {r['status']}"


@reports_errors
def main(argv: list[str] | None = None) -> int:
    top = argparse.ArgumentParser(
        prog="python -m nowwhat notebooks memory", description=__doc__.splitlines()[0]
    )
    top.add_argument(
        "names",
        nargs="*",
        help="parts of notebook names (default: every notebook; 00 and 01 always run first)",
    )
    top.add_argument("--quick", action="store_true", help="run the notebooks with quick=True")
    top.add_argument("--interval", type=float, default=0.1, help="seconds between samples (default 0.1)")
    args = top.parse_args(argv)
    chosen = [nb for nb in notebooks() if not args.names or any(n in nb.name for n in args.names)]
    if not chosen:
        print(f"error: no notebook matches {args.names}: see notebooks/", file=sys.stderr)
        return 2
    out = build_dir() / "memory"  # resolved before fresh_build() points NOWWHAT_BUILD elsewhere
    first = [nb for nb in notebooks() if nb.name.startswith(FOUNDATION) and nb not in chosen]
    results = []
    with fresh_build() as tmp:
        for notebook in first:
            print(f"{notebook.name} first (later notebooks build on it; not measured) …", flush=True)
            run(notebook, tmp / "executed", {"quick": args.quick})
        for notebook in chosen:
            print(f"{notebook.name} …", end=" ", flush=True)
            results.append(measure(notebook, tmp / "executed", {"quick": args.quick}, args.interval))
            print(_line(results[-1]), flush=True)
    with staged(out) as folder:
        write_json(folder / "memory.json", report(results, args.quick, args.interval))
    over = [r["notebook"] for r in results if r["peak_rss_mb"] > BUDGET_MB]
    failed = [r["notebook"] for r in results if r["status"] != "ok"]
    print(f"wrote {out / 'memory.json'}")
    if over or failed:
        print(
            f"over the {BUDGET_MB} MB budget: {over or 'none'}; failed: {failed or 'none'}", file=sys.stderr
        )
        return 1
    return 0
