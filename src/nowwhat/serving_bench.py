"""REST vs gRPC latency against a running model server, measured honestly.

Every request is timed until its answer is back and decoded: REST with `requests` (keep-alive session,
JSON parsed), gRPC with the official stubs (blocking call, or a future that is awaited with `.result()`
before the clock stops). REST and gRPC requests alternate, so a slow moment hurts both alike. Timing a
gRPC future that is never awaited measures only how long it takes to *send* the request; that figure is
recorded too, labelled as the mistake it is, because the 2019 version of this notebook made it.

`python -m nowwhat tf-serving bench` starts the demo's server (Docker, binary or development server: the
JSON says which), measures, and writes <build>/tf-serving/benchmark.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

from nowwhat.artifacts import write_json
from nowwhat.errors import NowWhatError
from nowwhat.serving_models import chapter_dir


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
    from nowwhat.serving_models import load, models_dir

    load()
    texts = load_splits().texts("test")
    with serve(server_kind, models_dir(), rest_port=0, grpc_port=0) as server:
        rest, grpc = RestClient(server.rest_url, server.model), GrpcClient(server.grpc_target, server.model)
        try:
            results = [measure(rest, grpc, texts, requests, batch) for batch in batches]
        finally:
            rest.close()
            grpc.close()
        figures = {"server": server.description, "served_by": server.kind, "results": results}
    write_json(chapter_dir() / "benchmark.json", figures)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nowwhat tf-serving bench", description=__doc__)
    parser.add_argument("--requests", type=int, default=200, help="requests per batch size and API")
    parser.add_argument("--server", choices=("auto", "docker", "binary", "dev"), default="auto")
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
    return 0
