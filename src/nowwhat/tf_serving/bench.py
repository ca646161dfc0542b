"""REST vs gRPC latency against a running model server, measured honestly.

Every request is timed until its answer is back and decoded: REST with `requests` (keep-alive session,
JSON parsed), gRPC with the official stubs (blocking call, or a future that is awaited with `.result()`
before the clock stops). REST and gRPC requests alternate, so a slow moment hurts both alike. Timing a
gRPC future that is never awaited measures only how long it takes to *send* the request; that figure is
recorded too, labelled as the mistake it is, because the 2019 version of this notebook made it.

`python -m nowwhat tf-serving bench` starts the demo's server (Docker, binary or development server: the
JSON says which), measures, and writes <build>/tf-serving/benchmark.json; `--record` keeps the run as the
one demos/tf-serving/README.md shows (`make bench-tf-serving RECORD=1`).
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
import textwrap
import time

from nowwhat import artifacts
from nowwhat.artifacts import machine, write_json
from nowwhat.errors import NowWhatError
from nowwhat.paths import REPO_ROOT
from nowwhat.tables import markdown
from nowwhat.tf_serving.models import chapter_dir

DEMO_DIR = REPO_ROOT / "demos" / "tf-serving"
#: The run the demo's README shows (`make bench-tf-serving RECORD=1`), and where in the README it goes.
RECORDED = DEMO_DIR / "benchmark.json"
BEGIN = "<!-- tf-serving-benchmark: generated from benchmark.json by `make bench-tf-serving RECORD=1` -->"
END = "<!-- /tf-serving-benchmark -->"
COLUMNS = {
    "rest": "REST",
    "grpc": "gRPC",
    "grpc_future_awaited": "gRPC future, awaited",
    "grpc_future_not_awaited (wrong)": "gRPC future, *not* awaited (wrong)",
}


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def measure(rest, grpc, texts: list[str], requests: int, batch: int, version: int = 1) -> dict:
    """Per-request milliseconds for REST, gRPC (blocking) and gRPC futures awaited one by one, all
    asking for the same `version` (named, so that moving a label cannot change what is measured)."""
    batches = [[texts[(i * batch + j) % len(texts)] for j in range(batch)] for i in range(requests)]
    for warm in batches[:5]:  # first calls pay for connection set-up and graph tracing
        rest.probabilities(warm, version=version)
        grpc.predict(warm, version=version)
    times = {"rest": [], "grpc": [], "grpc_future_awaited": [], "grpc_future_not_awaited (wrong)": []}
    for chunk in batches:
        start = time.perf_counter()
        rest.probabilities(chunk, version=version)
        times["rest"].append(_ms(start))
        start = time.perf_counter()
        grpc.predict(chunk, version=version)
        times["grpc"].append(_ms(start))
        start = time.perf_counter()
        future = grpc.predict_async(chunk, version=version)
        times["grpc_future_not_awaited (wrong)"].append(_ms(start))
        future.result()
        times["grpc_future_awaited"].append(_ms(start))
    medians = {name: round(statistics.median(values), 3) for name, values in times.items()}
    return {
        "batch": batch,
        "version": version,
        "requests": requests,
        "median_ms": medians,
        "rest_over_grpc": round(medians["rest"] / medians["grpc"], 2),
        "samples_ms": {name: [round(v, 3) for v in values] for name, values in times.items()},
    }


def run(requests: int = 200, batches: tuple[int, ...] = (1, 32), server_kind: str = "auto") -> dict:
    """Start the demo server, measure each batch size, write benchmark.json, return the figures."""
    try:
        from tfserving_demo.grpc_client import GrpcClient
        from tfserving_demo.rest_client import RestClient
        from tfserving_demo.run import serve
    except ImportError as exc:
        raise NowWhatError(f"the TF Serving demo package is not installed ({exc}): run `make setup`") from exc
    from nowwhat.data import load_splits
    from nowwhat.tf_serving.models import load, models_dir

    load()
    texts = load_splits().texts("test")
    with serve(server_kind, models_dir(), rest_port=0, grpc_port=0) as server:
        rest = RestClient(server.rest_url, server.model)
        grpc = GrpcClient(server.grpc_target, server.model)
        try:
            results = [measure(rest, grpc, texts, requests, batch) for batch in batches]
        finally:
            rest.close()
            grpc.close()
        figures = {"server": server.description, "served_by": server.kind, "environment": machine()}
        figures["results"] = results
    write_json(chapter_dir() / "benchmark.json", figures)
    return figures


def table(figures: dict) -> str:
    """Median milliseconds per request, one row per batch size."""
    header = ["batch", *COLUMNS.values(), "REST / gRPC"]
    rows = [
        [f"{r['batch']} review{'s' if r['batch'] > 1 else ''}",
         *(f"{r['median_ms'][k]:.2f}" for k in COLUMNS), f"{r['rest_over_grpc']:.2f}"]
        for r in figures["results"]
    ]
    return markdown(header, rows, right=set(range(1, len(header))))


def readme_section(figures: dict) -> str:
    """What demos/tf-serving/README.md shows of a run, every figure from the results file."""
    env, results = figures["environment"], figures["results"]
    requests = results[0]["requests"]
    dev = figures["served_by"] == "dev"
    how = (
        f"One run of `make bench-tf-serving` ({requests} requests per API and batch size, each timed until "
        f"its answer is decoded, REST and gRPC alternating, all asking for version "
        f"{results[0]['version']}) on a {env['cpus']}-core {env['machine']} machine ({env['cpu']}), "
        f"against **{figures['server']}**; median milliseconds per request. The batch is client-side (one "
        "request carrying several reviews)."
    )
    if dev:
        how += " The development server does no server-side batching."
    first, last = results[0], results[-1]
    lead = "smaller" if last["rest_over_grpc"] < first["rest_over_grpc"] else "larger"
    notes = [
        f"REST takes {first['rest_over_grpc']:.2f}× as long as gRPC for {first['batch']} review and "
        f"{last['rest_over_grpc']:.2f}× for {last['batch']}: gRPC's relative lead is {lead} with the "
        "bigger batch in this run.",
        "The last-but-one column is the 2019 mistake: a future that is never awaited \"finishes\" before "
        "the answer exists.",
    ]
    if dev:
        notes.append(
            "These compare Python's Flask/werkzeug with Python's grpcio, not TF Serving's C++ server: rerun "
            "with `./run.sh --server binary` or Docker before deciding anything on speed."
        )
    wrap = functools.partial(textwrap.fill, width=105, break_on_hyphens=False)
    listed = "\n".join(wrap(n, initial_indent="- ", subsequent_indent="  ") for n in notes)
    return f"{BEGIN}\n{wrap(how)}\n\n{table(figures)}\n\n{listed}\n{END}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nowwhat tf-serving bench", description=__doc__)
    parser.add_argument("--requests", type=int, default=200, help="requests per batch size and API")
    parser.add_argument("--server", choices=("auto", "docker", "binary", "dev"), default="auto")
    parser.add_argument(
        "--record", action="store_true", help="maintainers: keep this run in the demo's README"
    )
    args = parser.parse_args(argv)
    try:
        figures = run(args.requests, server_kind=args.server)
    except (NowWhatError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"server: {figures['server']}")
    for result in figures["results"]:
        print(
            json.dumps(
                {"batch": result["batch"], **result["median_ms"], "rest/grpc": result["rest_over_grpc"]}
            )
        )
    print(f"→ {chapter_dir() / 'benchmark.json'}")
    if args.record:
        artifacts.record(figures, RECORDED, DEMO_DIR / "README.md", BEGIN, END, readme_section(figures))
    return 0
