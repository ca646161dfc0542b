"""Adaptive batching off and on, side by side: `python -m nowwhat mlserver bench` (or `make bench-mlserver`).

MLServer serves the same model twice (demos/mlserver: `reviews` without batching, `reviews-batched` with
max_batch_size 32 and max_batch_time 5 ms). For each, at 1, 8 and 32 concurrent clients that each send
one review per request for a fixed time: throughput, p50 and p99 latency, and the batches the runtime was
actually called with (its `review_batch_size` histogram, read from the metrics endpoint before and after).
Writes <build>/mlserver/batching.json; `--record` keeps the run as the one demos/mlserver/README.md shows.
"""

from __future__ import annotations

import argparse
import re
import threading
import time

import numpy as np
import requests

from nowwhat import artifacts
from nowwhat.errors import reports_errors
from nowwhat.open_inference.server import DEMO_DIR, MODELS, MLServer, infer_body
from nowwhat.paths import build_dir
from nowwhat.tables import markdown

CONCURRENCY = (1, 8, 32)
RECORDED = DEMO_DIR / "batching.json"
BEGIN = "<!-- mlserver-batching: generated from batching.json by `make bench-mlserver RECORD=1` -->"
END = "<!-- /mlserver-batching -->"
BUCKETS = ("1.0", "2.0", "4.0", "8.0", "16.0", "32.0", "64.0")


def histogram(server: MLServer, model: str) -> dict[str, float]:
    """The runtime's batch-size histogram for `model`: cumulative count per bucket bound, sum, count."""
    text = requests.get(server.metrics_url, timeout=30).text
    labels = rf'model_name="{model}",model_version="1"'
    pattern = rf'^review_batch_size_(?:bucket{{le="([^"]+)",|(sum|count){{){labels}}} (\S+)$'
    return {m.group(1) or m.group(2): float(m.group(3)) for m in re.finditer(pattern, text, re.M)}


def batches(before: dict, after: dict) -> dict:
    """Calls of the runtime and the sizes they had, between two readings of the histogram."""
    calls, reviews = (after.get(k, 0.0) - before.get(k, 0.0) for k in ("count", "sum"))
    cumulative = [after.get(b, 0.0) - before.get(b, 0.0) for b in BUCKETS]
    per_bucket = (c - p for c, p in zip(cumulative, [0.0, *cumulative[:-1]], strict=True))
    sizes = {f"≤{float(b):g}": round(n) for b, n in zip(BUCKETS, per_bucket, strict=True) if round(n)}
    mean = round(reviews / calls, 2) if calls else None
    return {"calls": round(calls), "reviews": round(reviews), "mean": mean, "sizes": sizes}


def load(url: str, texts: list[str], clients: int, seconds: float) -> dict:
    """`clients` threads, each with its own connection, one review per request, for `seconds`."""
    latencies, errors, lock = [], [0], threading.Lock()
    deadline = time.monotonic() + seconds

    def client(offset: int) -> None:
        session, i, mine = requests.Session(), offset, []
        while time.monotonic() < deadline:
            start = time.perf_counter()
            try:
                session.post(url, json=infer_body([texts[i % len(texts)]]), timeout=30).raise_for_status()
                mine.append((time.perf_counter() - start) * 1000)
            except requests.RequestException:
                with lock:
                    errors[0] += 1
            i += clients
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - start
    ms = np.array(latencies or [np.nan])
    return {
        "requests": len(latencies),
        "errors": errors[0],
        "throughput_rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
    }


def benchmark(seconds: float = 5.0, concurrency: tuple[int, ...] = CONCURRENCY, reviews: int = 200,
              server: MLServer | None = None, out: str = "batching.json") -> dict:
    """Every model of MODELS at every concurrency, on `server` (else one started for it); written to
    <build>/mlserver/`out`."""
    import contextlib

    from nowwhat.data import load_splits

    texts = load_splits().texts("test")[:reviews]
    rows = []
    with contextlib.nullcontext(server) if server else MLServer() as server:
        for model in MODELS:
            requests.post(server.infer_url(model), json=infer_body(texts[:1]), timeout=30).raise_for_status()
            for clients in concurrency:
                before = histogram(server, model)
                measured = load(server.infer_url(model), texts, clients, seconds)
                formed = batches(before, histogram(server, model))
                row = {"model": model, "batching": model.endswith("batched"), "clients": clients}
                rows.append({**row, **measured, "batches": formed})
    settings = {"seconds_per_run": seconds, "reviews": len(texts), "max_batch_size": 32}
    settings["max_batch_time_ms"] = 5
    result = {"environment": artifacts.machine(), "settings": settings, "rows": rows}
    artifacts.write_json(build_dir() / "mlserver" / out, result)
    return result


def table(result: dict) -> str:
    header = ["batching", "clients", "requests/s", "p50 (ms)", "p99 (ms)", "errors", "runtime calls"]
    rows = []
    for r in result["rows"]:
        formed = r["batches"]
        sizes = ", ".join(f"{k}: {v:,}" for k, v in formed["sizes"].items())
        rows.append([
            "on" if r["batching"] else "off", r["clients"], f"{r['throughput_rps']:,.0f}",
            f"{r['p50_ms']:.1f}", f"{r['p99_ms']:.1f}", r["errors"], f"{formed['calls']:,}",
            f"{formed['mean']} ({sizes})",
        ])  # fmt: skip
    return markdown([*header, "reviews per call"], rows, right={1, 2, 3, 4, 5, 6})


def readme_section(result: dict) -> str:
    import textwrap

    env, settings = result["environment"], result["settings"]
    how = (
        f"One run of `make bench-mlserver` on a {env['cpus']}-core {env['machine']} machine ({env['cpu']}): "
        f"MLServer with one process (parallel_workers 0), the workshop's model through ONNX Runtime, "
        f"{settings['seconds_per_run']:g} s per row, single-review V2 REST requests from Python threads on "
        f"the same machine, cycling through {settings['reviews']} test reviews. Batching: max_batch_size "
        f"{settings['max_batch_size']}, max_batch_time {settings['max_batch_time_ms']} ms. *Reviews per "
        "call* is what the runtime's predict() received (mean, then how many calls of each size)."
    )
    return f"{BEGIN}\n{textwrap.fill(how, width=105, break_on_hyphens=False)}\n\n{table(result)}\n{END}"


@reports_errors
def main(argv: list[str] | None = None) -> int:
    summary = __doc__.splitlines()[0]
    top = argparse.ArgumentParser(prog="python -m nowwhat mlserver bench", description=summary)
    top.add_argument("--seconds", type=float, default=5.0, help="length of each row's load (%(default)s)")
    top.add_argument("--record", action="store_true", help="maintainers: keep this run in the demo's README")
    args = top.parse_args(argv)
    result = benchmark(args.seconds)
    print(table(result))
    print(f"→ {build_dir() / 'mlserver' / 'batching.json'}")
    if args.record:
        artifacts.record(result, RECORDED, DEMO_DIR / "README.md", BEGIN, END, readme_section(result))
    return 0
