"""Naive 2019 app vs production app under load: `python -m nowwhat flask bench` (or `make bench-flask`).

The load generator is wrk (C, one thread, closed loop: each of N connections sends its next request when
the previous answer arrives, so N is the concurrency). It posts real test reviews to each server on
127.0.0.1 for a fixed time per run. For concurrency 1, 8 and 32: requests/s, p50/p90/p99 latency, errors,
and the resident memory of every server process. The in-process ceiling is the same SavedModel signature
called in a loop in one process, one review per call: what the model costs without any HTTP.

Everything runs on the same cores as the servers, next to whatever else runs on the machine, so its load
is recorded with every run: the load average, and the CPU seconds other processes used while it ran.
Figures are medians over the repeats of one run, written to <build>/flask/benchmark.json and plotted to
<build>/flask/benchmark.png.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from nowwhat import artifacts, processes
from nowwhat.artifacts import machine, read_manifest, write_json, write_manifest
from nowwhat.errors import NowWhatError, reports_errors
from nowwhat.flask_api.server import DEMO_DIR, Server
from nowwhat.paths import build_dir
from nowwhat.tables import markdown

CONCURRENCY = (1, 8, 32)
#: What the chapter aims for at concurrency 8: ten times the naive app's throughput, a p99 within 50 ms.
TARGETS = {"speedup_at_8_min": 10.0, "production_p99_ms_at_8_max": 50.0}
PATHS = {"naive": "/predict", "production": "/v1/predict"}
#: The run the demo's README shows (`make bench-flask RECORD=1`), and where in the README it goes.
RECORDED = DEMO_DIR / "benchmark.json"
BEGIN = "<!-- flask-benchmark: generated from benchmark.json by `make bench-flask RECORD=1` -->"
END = "<!-- /flask-benchmark -->"

#: wrk script: POST the bodies in turn; at the end print one JSON line with the figures (µs).
_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local bodies = {%(bodies)s}
local i = 0
request = function()
  i = i %% #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK_JSON {"requests": %%d, "duration_us": %%d, "connect_errors": %%d, '
    .. '"read_errors": %%d, "write_errors": %%d, "timeouts": %%d, "non_2xx": %%d, "p50_us": %%d, '
    .. '"p90_us": %%d, "p99_us": %%d, "max_us": %%d}\\n', summary.requests, summary.duration, e.connect,
    e.read, e.write, e.timeout, e.status, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end
"""


def flask_dir() -> Path:
    return build_dir() / "flask"


def wrk_script(texts: list[str], folder: Path) -> Path:
    """A Lua script that cycles through one JSON body per text."""
    bodies = []
    for text in texts:
        body = json.dumps({"text": text})  # ASCII only (\\u escapes), so no Lua long-bracket clash
        if "]==]" in body:
            raise NowWhatError("a review contains ']==]', which the wrk script cannot quote")
        bodies.append(f"[==[{body}]==]")
    path = folder / "post.lua"
    path.write_text(_LUA % {"bodies": ", ".join(bodies)})
    return path


def wrk(url: str, script: Path, concurrency: int, seconds: float) -> dict:
    """One closed-loop wrk run; the figures from its done() hook, in ms."""
    if not shutil.which("wrk"):
        raise NowWhatError(
            "the load generator wrk is not installed: run `make setup-flask` (apt-get install wrk)"
        )
    if int(seconds) != seconds or seconds < 1:
        raise NowWhatError(f"wrk runs for whole seconds (1 or more), not {seconds}")
    command = [
        "wrk",
        "-t1",
        f"-c{concurrency}",
        f"-d{int(seconds)}s",
        "--timeout",
        "60s",
        "-s",
        str(script),
        url,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
    line = next((x for x in result.stdout.splitlines() if x.startswith("WRK_JSON ")), None)
    if result.returncode or line is None:
        raise NowWhatError(
            f"wrk failed (exit {result.returncode}): {(result.stderr or result.stdout)[-300:]}"
        )
    raw = json.loads(line.removeprefix("WRK_JSON "))
    errors = sum(raw[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts", "non_2xx"))
    return {
        "requests": raw["requests"],
        "requests_per_s": round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
        **{f"{p}_ms": round(raw[f"{p}_us"] / 1000, 2) for p in ("p50", "p90", "p99", "max")},
        "errors": errors,
        "error_kinds": {
            k: raw[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts", "non_2xx")
        },
    }


def _busy_cpu_seconds() -> float:
    import psutil

    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def _cpu_seconds(pids: list[int]) -> float:
    import psutil

    total = 0.0
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def _settle(server: Server, limit: float = 15.0) -> None:
    """Wait until the server is idle again (a naive server works off abandoned requests after a run)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        used = _cpu_seconds(server.pids())
        time.sleep(0.5)
        if (_cpu_seconds(server.pids()) - used) / 0.5 < 0.05:
            return


def measured_run(server: Server, script: Path, concurrency: int, seconds: float) -> dict:
    """wrk at one concurrency, with the CPU the server, wrk and everything else used meanwhile."""
    pids = server.pids()
    server_before, busy_before = _cpu_seconds(pids), _busy_cpu_seconds()
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_before = os.getloadavg()[0]
    figures = wrk(server.url + PATHS[server.kind], script, concurrency, seconds)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_cpu = (children.ru_utime - children_before.ru_utime) + (children.ru_stime - children_before.ru_stime)
    server_cpu = _cpu_seconds(pids) - server_before
    busy = _busy_cpu_seconds() - busy_before
    return {
        **figures,
        "cpu_s": {
            "server": round(server_cpu, 2),
            "wrk": round(wrk_cpu, 2),
            "others": round(max(busy - server_cpu - wrk_cpu, 0.0), 2),
            "available": round(seconds * (os.cpu_count() or 1), 2),
        },
        "load_average_1min_before": round(load_before, 2),
    }


def bench_server(kind: str, texts: list[str], seconds: float, repeats: int, concurrency=CONCURRENCY) -> list:
    """Start one server, warm it up, then `repeats` runs per concurrency; the server is always stopped."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp, Server(kind) as server:
        script = wrk_script(texts, Path(tmp))
        wrk(server.url + PATHS[kind], script, 1, 1)  # warm-up: first calls trace graphs, fill caches
        for c in concurrency:
            runs = []
            for _ in range(repeats):
                _settle(server)
                runs.append(measured_run(server, script, c, seconds))
            memory = server.memory_mib()
            workers = server.worker_pids()
            rows.append(
                {
                    "server": kind,
                    "concurrency": c,
                    **{
                        k: statistics.median(r[k] for r in runs)
                        for k in ("requests_per_s", "p50_ms", "p99_ms")
                    },
                    "errors": sum(r["errors"] for r in runs),
                    "worker_rss_mib": [memory[p] for p in workers if p in memory],
                    "server_rss_mib_total": round(sum(memory.values()), 1),
                    "runs": runs,
                }
            )
        exit_code = server.stop()
    rows[-1]["server_exit_code"] = exit_code
    return rows


_CEILING = """
import json, sys, time
from review_model import ReviewModel
import tensorflow as tf
texts, seconds = json.loads(sys.stdin.read()), float(sys.argv[1])
model = ReviewModel()
signature = model.serving_function
for text in texts[:20]:
    signature(text=tf.constant([text]))
n, start = 0, time.perf_counter()
while time.perf_counter() - start < seconds:
    signature(text=tf.constant([texts[n % len(texts)]]))
    n += 1
print(json.dumps({"calls_per_s": n / (time.perf_counter() - start), "calls": n}))
"""


def in_process_ceiling(texts: list[str], seconds: float, model_dir: Path) -> dict:
    """The served signature called in a loop in one process (one TensorFlow thread, as in a worker)."""
    env = processes.serving_only(
        {**os.environ, "MODEL_DIR": str(model_dir), "TF_CPP_MIN_LOG_LEVEL": "2", "TF_THREADS": "1"}
    )
    result = subprocess.run(
        [sys.executable, "-c", _CEILING, str(seconds)],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        cwd=DEMO_DIR,
        env=env,
        timeout=seconds + 120,
    )
    if result.returncode:
        raise NowWhatError(f"the in-process ceiling run failed: {result.stderr.strip().splitlines()[-1:]}")
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    return {"calls_per_s": round(figures["calls_per_s"], 1), "calls": figures["calls"], "seconds": seconds}


def _ratio(a: float, b: float) -> float | None:
    """a / b to one decimal; None when b is 0 (a run too short for the naive app to answer at all)."""
    return round(a / b, 1) if b else None


def summarise(rows: list[dict], ceiling: dict) -> dict:
    """Speed-up at each concurrency, production as a share of the ceiling, and the targets."""
    by = {(r["server"], r["concurrency"]): r for r in rows}
    levels = sorted({r["concurrency"] for r in rows})
    speedup = {
        c: _ratio(by["production", c]["requests_per_s"], by["naive", c]["requests_per_s"]) for c in levels
    }
    share = {c: round(by["production", c]["requests_per_s"] / ceiling["calls_per_s"], 2) for c in levels}
    summary = {"speedup": speedup, "production_share_of_ceiling": share}
    if 8 in levels:
        summary["targets_met"] = {
            "speedup_at_8": speedup[8] is not None and speedup[8] >= TARGETS["speedup_at_8_min"],
            "production_p99_at_8": by["production", 8]["p99_ms"] <= TARGETS["production_p99_ms_at_8_max"],
            "no_errors": all(r["errors"] == 0 for r in rows if r["server"] == "production"),
        }
    return summary


def benchmark(
    seconds: int = 5,
    repeats: int = 3,
    reviews: int = 200,
    concurrency=CONCURRENCY,
    out: Path | None = None,
) -> dict:
    """Measure both servers and the ceiling; write JSON and the plot. Returns the figures."""
    from nowwhat.data import load_splits
    from nowwhat.paths import export_dir

    texts = load_splits().texts("test")[:reviews]
    out = Path(out or flask_dir() / "benchmark.json")
    started = time.time()
    load_start = os.getloadavg()
    rows = bench_server("naive", texts, seconds, repeats, concurrency)
    rows += bench_server("production", texts, seconds, repeats, concurrency)
    ceiling = in_process_ceiling(texts, seconds, export_dir())
    result = {
        "environment": {
            **machine(),
            "load_generator": subprocess.run(
                ["wrk", "--version"], capture_output=True, text=True
            ).stdout.split(" [")[0],
            "nice": os.nice(0),
            "load_average_at_start": [round(x, 2) for x in load_start],
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        },
        "settings": {
            "seconds_per_run": seconds,
            "repeats": repeats,
            "distinct_reviews": len(texts),
            "wrk_threads": 1,
            "production": "gunicorn, 2 sync workers, 1 TensorFlow thread each (demos/flask/gunicorn.conf.py)",
            "naive": "Flask development server (threaded), keras model.predict per request",
        },
        "wall_seconds": round(time.time() - started, 1),
        "ceiling": ceiling,
        "rows": rows,
        "targets": TARGETS,
        **summarise(rows, ceiling),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    write_json(out, result)
    _save(plot(result), out.with_suffix(".png"))
    exported = read_manifest(export_dir(), "export", "python -m nowwhat export")
    write_manifest(
        out.parent,
        "flask benchmark",
        results=out.name,
        data_fingerprint=exported["data_fingerprint"],
        exported_model=exported["code_version"],
        targets_met=result.get("targets_met"),
    )
    return result


def plot(result: dict):
    """Throughput and p99 latency against concurrency, both servers, with the ceiling and the target."""
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    for kind, color in (("naive", "tab:red"), ("production", "tab:green")):
        rows = [r for r in result["rows"] if r["server"] == kind]
        levels = [r["concurrency"] for r in rows]
        label = "naive 2019 app" if kind == "naive" else "production (gunicorn)"
        left.plot(levels, [r["requests_per_s"] for r in rows], "o-", color=color, label=label)
        right.plot(levels, [r["p99_ms"] for r in rows], "o-", color=color, label=label)
    left.axhline(result["ceiling"]["calls_per_s"], ls="--", color="gray", label="in-process ceiling")
    right.axhline(TARGETS["production_p99_ms_at_8_max"], ls=":", color="black", label="target p99 (50 ms)")
    left.set(title="throughput (higher is better)", ylabel="requests / s")
    right.set(title="p99 latency (lower is better)", ylabel="ms")
    for ax in (left, right):
        ax.set(xscale="log", yscale="log", xlabel="concurrent connections")
        ax.set_xticks([r["concurrency"] for r in result["rows"] if r["server"] == "production"])
        ax.get_xaxis().set_major_formatter(plt.ScalarFormatter())
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _save(figure, path: Path) -> None:
    """Write the plot and close it, so a notebook that runs the benchmark does not show it a second time."""
    import matplotlib.pyplot as plt

    figure.savefig(path, dpi=110)
    plt.close(figure)


def table(result: dict) -> str:
    """The figures as a Markdown table (README, notebook)."""
    header = ["server", "concurrency", "requests/s", "p50 ms", "p99 ms", "errors", "worker RSS (MiB)"]
    rows = [
        [
            r["server"],
            r["concurrency"],
            f"{r['requests_per_s']:,.0f}",
            f"{r['p50_ms']:.1f}",
            f"{r['p99_ms']:.1f}",
            r["errors"],
            ", ".join(f"{m:.0f}" for m in r["worker_rss_mib"]),
        ]
        for r in result["rows"]
    ]
    return markdown(header, rows, right={1, 2, 3, 4, 5})


def readme_section(result: dict) -> str:
    """What demos/flask/README.md shows of a run: how it was run, the table, the ratios, every figure
    computed from the results file."""
    env, settings, ceiling = result["environment"], result["settings"], result["ceiling"]
    by = {(r["server"], r["concurrency"]): r for r in result["rows"]}
    production, naive = by["production", 8], by["naive", 8]
    speedup = {int(c): x for c, x in result["speedup"].items()}
    share = ", ".join(f"{x:.2f} ({c})" for c, x in result["production_share_of_ceiling"].items())
    others = max(run["cpu_s"]["others"] for r in result["rows"] for run in r["runs"])
    errors = sum(r["errors"] for r in result["rows"] if r["server"] == "production")
    memory = [m for r in result["rows"] if r["server"] == "production" for m in r["worker_rss_mib"]]
    cpus, seconds = env["cpus"], settings["seconds_per_run"]
    memory = f"{min(memory):,.0f}" + (f" to {max(memory):,.0f}" if max(memory) != min(memory) else "")
    how = (
        f"One run of `make bench-flask` on a {cpus}-core {env['machine']} machine ({env['cpu']}), Python "
        f"{env['python']}, {env['load_generator']} with {settings['wrk_threads']} thread on the same cores: "
        f"{settings['repeats']} repeats of {seconds} s per server and concurrency, medians shown, over "
        f"{settings['distinct_reviews']} distinct test reviews. Load average "
        f"{env['load_average_at_start'][0]} at the start, {env['load_average_at_end'][0]} at the end (on "
        f"{cpus} cores, more than {cpus} means processes waited for a CPU); other processes took up to "
        f"{others:.1f} CPU-seconds during one {seconds} s run (`cpu_s.others` in `benchmark.json`)."
    )
    bullets = [
        f"In-process ceiling: **{ceiling['calls_per_s']:,.0f} predictions/s** "
        f"({1000 / ceiling['calls_per_s']:.2f} ms per call, one core).",
        f"At 8 connections the production app answers **{speedup[8]}× as many requests per second as the "
        f"naive app** ({production['requests_per_s']:,.0f} ÷ {naive['requests_per_s']:,.0f}; the aim: at "
        f"least {TARGETS['speedup_at_8_min']:.0f}×) with a p99 of **{production['p99_ms']:.1f} ms** (the "
        f"aim: at most {TARGETS['production_p99_ms_at_8_max']:.0f} ms), and {errors} errors at any "
        f"concurrency. At 1 connection the ratio is {speedup[1]}× already.",
        f"Production throughput as a share of the in-process ceiling, by concurrency: {share}.",
        f"Memory: {memory} MiB resident per production worker.",
    ]
    wrap = functools.partial(textwrap.fill, width=105, break_on_hyphens=False)
    listed = "\n".join(wrap(b, initial_indent="- ", subsequent_indent="  ") for b in bullets)
    return f"{BEGIN}\n{wrap(how)}\n\n{table(result)}\n\n{listed}\n{END}"


def record(result: dict, readme: Path = DEMO_DIR / "README.md") -> None:
    """Keep this run as the one the README shows, and rewrite the README's section from it."""
    artifacts.record(result, RECORDED, readme, BEGIN, END, readme_section(result))


@reports_errors
def main(argv: list[str] | None = None) -> int:
    top = argparse.ArgumentParser(prog="python -m nowwhat flask bench", description=__doc__.split("\n\n")[0])
    top.add_argument("--seconds", type=int, default=5, help="length of each wrk run (whole seconds)")
    top.add_argument("--repeats", type=int, default=3, help="runs per server and concurrency (median kept)")
    top.add_argument("--reviews", type=int, default=200, help="distinct test reviews the load cycles through")
    top.add_argument("--record", action="store_true", help="maintainers: keep this run in the demo's README")
    args = top.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    result = benchmark(args.seconds, args.repeats, args.reviews)
    print(table(result))
    print(f"in-process ceiling: {result['ceiling']['calls_per_s']:,.0f} calls/s")
    print(json.dumps({k: result[k] for k in ("speedup", "production_share_of_ceiling", "targets_met")}))
    print(f"→ {flask_dir() / 'benchmark.json'} and benchmark.png")
    if args.record:
        record(result)
    return 0
