"""One benchmark harness for every runtime: `python -m nowwhat compare bench [--quick]` (or `make bench`).

For each runtime, on the same test reviews and this machine, in one run: cold start (process start to
first prediction; for the browser, navigation to model ready), latency p50/p99 at batch size 1,
throughput at concurrency 8 (servers), artifact size, peak memory, and accuracy and agreement with Keras.
Cold start and latency are repeated `runs` times and reported as medians. Everything it starts is stopped,
whatever happens. Output under <build>/compare/: results.json, results.md, probabilities.npz, plots.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nowwhat.artifacts import folder_bytes, machine, write_json
from nowwhat.compare.probe import IN_PROCESS, VERSION
from nowwhat.errors import NowWhatError, reports_errors
from nowwhat.paths import build_dir, model_dir, serving_base
from nowwhat.tables import markdown
from nowwhat.workshop.memory import MB, TreeSampler

SETTINGS = {
    "full": {"reviews": 1000, "latency_requests": 200, "throughput_seconds": 5.0, "runs": 3},
    "quick": {"reviews": 40, "latency_requests": 20, "throughput_seconds": 1.0, "runs": 1},
}
CONCURRENCY = 8
#: What `run` measures, in the order of the report's rows ("tf-serving" gives two: REST and gRPC;
#: "mlserver" two: adaptive batching off and on; "tfjs" two: cpu and webgl).
SERVERS = ("flask-naive", "flask-production", "tf-serving", "mlflow", "mlserver")
RUNTIMES = (*IN_PROCESS[:2], *SERVERS, *IN_PROCESS[2:], "tfjs")
FLOAT32 = (
    "keras",
    "savedmodel",
    "flask-naive",
    "flask-production",
    "tf-serving-rest",
    "tf-serving-grpc",
    "mlflow",
    "mlserver",
    "mlserver-batched",
    "tflite-float32",
    "onnx",
    "tfjs-cpu",
    "tfjs-webgl",
)
#: Rows whose runtime never loads TensorFlow (the demos' clients, MLServer's ONNX Runtime, the browser).
WITHOUT_TENSORFLOW = ("tflite-", "onnx", "mlserver", "tfjs-")


@dataclass
class Result:
    runtime: str
    family: str
    how: str
    cold_start_s: list[float] = field(default_factory=list)
    latency_ms: list[float] = field(default_factory=list)
    throughput_rps: float | None = None
    throughput_errors: int | None = None
    size_bytes: int = 0
    peak_memory_mib: float | None = None
    probabilities: list = field(default_factory=list)
    note: str = ""
    #: Which model answered: the serving version asked for and, where the answer says, answered by.
    served: dict = field(default_factory=dict)

    def summary(self, labels) -> dict:
        from nowwhat.metrics import classification_metrics

        latency = np.array(self.latency_ms)
        return {
            "runtime": self.runtime,
            "family": self.family,
            "how": self.how,
            "note": self.note,
            "cold_start_s": round(statistics.median(self.cold_start_s), 3),
            "latency_p50_ms": round(float(np.percentile(latency, 50)), 3),
            "latency_p99_ms": round(float(np.percentile(latency, 99)), 3),
            "throughput_rps_c8": None if self.throughput_rps is None else round(self.throughput_rps, 1),
            "throughput_errors": self.throughput_errors,
            "size_bytes": self.size_bytes,
            "peak_memory_mib": None if self.peak_memory_mib is None else round(self.peak_memory_mib, 1),
            "accuracy": classification_metrics(labels, self.probabilities)["accuracy"],
            "served": self.served,
        }


def process_tree(pid: int):
    """A callable listing the process pid and all its descendants (for memory.TreeSampler)."""
    import psutil

    def processes():
        with contextlib.suppress(psutil.Error):
            parent = psutil.Process(pid)
            return [parent, *parent.children(recursive=True)]
        return []

    return processes


def timed_ms(call, *args) -> float:
    start = time.perf_counter()
    call(*args)
    return (time.perf_counter() - start) * 1000


def load(make_client, seconds: float, texts: list[str]) -> tuple[float, int]:
    """CONCURRENCY threads, each with its own client, send single reviews for `seconds` → (req/s, errors)."""
    done, errors, lock = [0], [0], threading.Lock()
    deadline = time.monotonic() + seconds

    def worker(offset: int) -> None:
        predict, i = make_client(), offset
        while time.monotonic() < deadline:
            try:
                predict([texts[i % len(texts)]])
                with lock:
                    done[0] += 1
            except Exception:  # counted, reported, never hidden
                with lock:
                    errors[0] += 1
            i += CONCURRENCY

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(CONCURRENCY)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return done[0] / (time.monotonic() - start), errors[0]


# ── in-process runtimes: one fresh process per run ───────────────────────────────────────────────────


def measure_in_process(runtime: str, cfg: dict, texts_file: Path) -> Result:
    family = {"keras": "in-process TensorFlow", "savedmodel": "in-process TensorFlow", "onnx": "ONNX Runtime"}
    how = {
        "keras": "Keras model, model(texts) in process",
        "savedmodel": "serving SavedModel signature, in process",
        "onnx": "the demo's client on the core model (tf2onnx) and the tokenizer, no TensorFlow",
    }.get(runtime, "edge client (no TensorFlow)")
    served = {"savedmodel": {"version": VERSION}, "keras": {"model": "classifier.keras"}}.get(runtime, {})
    result = Result(runtime, family.get(runtime, "LiteRT (ai-edge-litert)"), how, served=served)
    for _ in range(cfg["runs"]):
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "nowwhat.compare.probe",
                runtime,
                str(texts_file),
                str(cfg["latency_requests"]),
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
            timeout=600,
        )
        if out.returncode != 0:
            raise NowWhatError(f"measuring {runtime} failed: {out.stderr.strip().splitlines()[-1:]}")
        run = json.loads(out.stdout.strip().splitlines()[-1])
        result.cold_start_s.append(run["cold_start_s"])
        result.latency_ms += run["latency_ms"]
        result.peak_memory_mib = max(result.peak_memory_mib or 0, run["peak_memory_mib"])
        result.probabilities = run["probabilities"]
    if runtime == "keras":
        result.size_bytes = folder_bytes(model_dir() / "classifier.keras")
    elif runtime == "savedmodel":
        result.size_bytes = folder_bytes(serving_base() / str(VERSION))
    elif runtime == "onnx":
        result.size_bytes = folder_bytes(build_dir() / "onnx" / "keras")
    else:
        from nowwhat.tflite.convert import bundle_dir

        result.size_bytes = folder_bytes(bundle_dir() / f"{runtime.removeprefix('tflite-')}.tflite")
    return result


# ── servers: started, measured over HTTP/gRPC on loopback, stopped ──────────────────────────────────


def measure_flask(kind: str, cfg: dict, texts) -> Result:
    import requests

    from nowwhat.flask_api.server import Server

    path = "/predict" if kind == "naive" else "/v1/predict"
    how = (
        "2019-style app: Flask dev server, model.predict per request on the Keras file"
        if kind == "naive"
        else "gunicorn + Flask app factory, model loaded once per worker"
    )
    result = Result(f"flask-{kind}", "Flask", how, size_bytes=folder_bytes(serving_base() / str(VERSION)))

    def client(server):
        session = requests.Session()

        def predict(batch):
            response = session.post(server.url + path, json={"text": batch[0]}, timeout=60)
            response.raise_for_status()
            body = response.json()
            return body["prediction"][0] if kind == "naive" else list(body["probabilities"].values())

        return predict

    measure_served(lambda: Server(kind), {result.runtime: (result, client)}, cfg, texts,
                   lambda server, _: flask_served(kind, server))  # fmt: skip
    return result


def measure_served(serve, clients: dict, cfg: dict, texts, served) -> None:
    """`cfg["runs"]` times: start `serve()` (a context manager whose server has `.process`), time its cold
    start to the first answer, then for each `clients` entry (runtime → (Result, make_client(server) → a
    function [text] → probabilities)): single-review latencies and, on the first run, what `served(server,
    runtime)` says answered, every review's probabilities and the throughput of CONCURRENCY clients."""
    for run in range(cfg["runs"]):
        start = time.perf_counter()
        with serve() as server, TreeSampler(0.2, process_tree(server.process.pid), pss=False) as memory:
            for number, (runtime, (result, make_client)) in enumerate(clients.items()):
                predict = make_client(server)
                if number == 0:
                    predict(texts[:1])
                    cold = time.perf_counter() - start
                result.cold_start_s.append(cold)
                result.latency_ms += [
                    timed_ms(predict, texts[i % len(texts) :][:1]) for i in range(cfg["latency_requests"])
                ]
                if run == 0:
                    result.served = served(server, runtime)
                    result.probabilities = [predict([t]) for t in texts]
                    result.throughput_rps, result.throughput_errors = load(
                        lambda m=make_client, s=server: m(s), cfg["throughput_seconds"], texts
                    )
        for result, _ in clients.values():
            result.peak_memory_mib = max(result.peak_memory_mib or 0, memory.peak_rss / MB)


def measure_mlflow(cfg: dict, texts) -> Result:
    """The Keras model's registered version, by number (the champion alias may have moved: chapter 06's
    exercise), through `mlflow models serve`."""
    import requests

    from nowwhat.model_registry.registry import Scorer, ensure_registered

    version = ensure_registered(in_child=True)["versions"]["keras"]["version"]
    how = f"mlflow models serve, registered version {version} (the serving SavedModel as a pyfunc), REST"
    result = Result("mlflow", "MLflow", how, size_bytes=folder_bytes(serving_base() / str(VERSION)))

    def client(server):
        session = requests.Session()

        def predict(batch):
            response = session.post(server.url, json={"inputs": batch}, timeout=60)
            response.raise_for_status()
            return response.json()["predictions"][0]

        return predict

    measure_served(lambda: Scorer(version), {"mlflow": (result, client)}, cfg, texts,
                   lambda server, _: {"model": server.model_uri})  # fmt: skip
    return result


def measure_mlserver(cfg: dict, texts) -> list[Result]:
    """One MLServer, the Keras model as its ONNX bundle twice: adaptive batching off and on."""
    import requests

    from nowwhat.onnx_runtime.convert import bundle_dir, ensure_converted
    from nowwhat.open_inference.server import MODELS, MLServer, infer_body, probabilities

    ensure_converted(in_child=True)
    size = folder_bytes(bundle_dir("keras"))
    clients = {}
    for model, batching in zip(MODELS, ("off", "on (max 32 reviews, 5 ms)"), strict=True):
        how = f"Open Inference Protocol (V2) REST, ONNX bundle, adaptive batching {batching}"
        result = Result(model.replace("reviews", "mlserver"), "MLServer", how, size_bytes=size)

        def client(server, model=model):
            session = requests.Session()

            def predict(batch):
                response = session.post(server.infer_url(model), json=infer_body(batch), timeout=60)
                response.raise_for_status()
                return probabilities(response.json())[0]

            return predict

        clients[result.runtime] = (result, client)
    models = {runtime: f"{model} (ONNX bundle)" for runtime, model in zip(clients, MODELS, strict=True)}
    measure_served(MLServer, clients, cfg, texts, lambda server, runtime: {"model": models[runtime]})
    return [result for result, _ in clients.values()]


def flask_served(kind: str, server) -> dict:
    """What answered: the naive app loads the Keras file; the production app names its SavedModel version
    in every answer, and its workers are counted (the processes gunicorn's master forked)."""
    import psutil
    import requests

    if kind == "naive":
        return {"model": "classifier.keras"}
    answer = requests.post(server.url + "/v1/predict", json={"text": "probe"}, timeout=60).json()
    workers = len(psutil.Process(server.process.pid).children())
    return {"version": answer["model"]["version"], "workers": workers}


def tf_serving_served(server, protocol: str) -> dict:
    """The version asked for, the versions loaded, and the one that answered (a gRPC answer names it; a
    REST answer does not, its URL does: /versions/<VERSION>)."""
    from tfserving_demo.grpc_client import GrpcClient
    from tfserving_demo.rest_client import RestClient

    status = RestClient(server.rest_url, server.model).status()
    loaded = sorted(int(s["version"]) for s in status if s["state"] == "AVAILABLE")
    served = {"asked_for": VERSION, "loaded": loaded}
    if protocol == "rest":
        return {**served, "version": VERSION}
    client = GrpcClient(server.grpc_target, server.model)
    try:
        answer = client.predictions.Predict(client.predict_request(["probe"], version=VERSION), timeout=30)
    finally:
        client.close()
    return {**served, "version": answer.model_spec.version.value}


def rest_predictor(server):
    from tfserving_demo.rest_client import RestClient

    client = RestClient(server.rest_url, server.model)
    return lambda batch: client.probabilities(batch, version=VERSION)[0]


def grpc_predictor(server):
    from tfserving_demo.grpc_client import GrpcClient

    client = GrpcClient(server.grpc_target, server.model)
    return lambda batch: client.predict(batch, version=VERSION)["probabilities"][0].tolist()


def measure_tf_serving(cfg: dict, texts) -> list[Result]:
    """One server (real binary if available, else the development server), REST and gRPC, asked for
    VERSION by number: the server also loads the canary, which a request without a version would get."""
    from tfserving_demo.run import serve

    from nowwhat.tf_serving import models

    models.load()
    size = folder_bytes(serving_base() / str(VERSION))
    clients = {
        f"tf-serving-{protocol}": (Result(f"tf-serving-{protocol}", "TF Serving", "", size_bytes=size), make)
        for protocol, make in (("rest", rest_predictor), ("grpc", grpc_predictor))
    }

    def served(server, runtime: str) -> dict:
        """What answered, and which server it was (known once one runs)."""
        protocol, result = runtime.removeprefix("tf-serving-"), clients[runtime][0]
        result.how = f"{server.description}, {protocol.upper()}, version {VERSION}"
        result.note = "development server, not the real TF Serving binary" if server.kind == "dev" else ""
        return tf_serving_served(server, protocol)

    measure_served(lambda: serve("auto", models.models_dir(), rest_port=0, grpc_port=0), clients, cfg, texts,
                   served)  # fmt: skip
    return [result for result, _ in clients.values()]


# ── the browser: the demo page in headless Chromium ─────────────────────────────────────────────────

_LATENCIES = """async ([texts, n]) => {
  const out = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await window.reviewDemo.predict([texts[i % texts.length]]);
    out.push(performance.now() - start);
  }
  return out;
}"""


def measure_tfjs(cfg: dict, texts) -> list[Result]:
    import psutil

    from nowwhat.tfjs.browser import DemoServer, chromium, off_event_loop, open_demo, predict, state
    from nowwhat.tfjs.convert import ensure_converted

    manifest = ensure_converted()

    @off_event_loop
    def run_all():
        results = []
        with DemoServer() as server, chromium() as browser:
            me = psutil.Process()
            chromium_processes = lambda: [p for p in me.children(recursive=True) if "chrom" in p.name()]  # noqa: E731
            for backend in ("cpu", "webgl"):
                result = Result(
                    f"tfjs-{backend}",
                    "TensorFlow.js",
                    f"demo page in headless Chromium, {backend} backend, float32 weights",
                    size_bytes=manifest["bytes"]["float32"],
                    note="cold start = navigation to model ready (browser already running)",
                )
                with TreeSampler(0.2, chromium_processes, pss=False) as memory:
                    for run in range(cfg["runs"]):
                        page, traffic = open_demo(browser, server.url, backend, "float32")
                        info = state(page)
                        if info["state"] != "ready":
                            raise NowWhatError(f"the TF.js demo failed on {backend}: {info.get('error')}")
                        result.cold_start_s.append(info["readyMs"] / 1000)
                        result.latency_ms += page.evaluate(_LATENCIES, [texts, cfg["latency_requests"]])
                        if run == 0:
                            result.probabilities = predict(page, texts)
                        if traffic.off_machine:
                            raise NowWhatError(
                                f"the page sent requests off this machine: {traffic.off_machine}"
                            )
                        page.context.close()
                result.peak_memory_mib = memory.peak_rss / MB
                results.append(result)
        return results

    return run_all()


# ── the report ───────────────────────────────────────────────────────────────────────────────────────


def parity_matrix(results: list[Result]) -> dict:
    """Every runtime against every other: share of identical labels and max |Δp|."""
    from nowwhat.metrics import agreement

    return {
        a.runtime: {b.runtime: agreement(a.probabilities, b.probabilities) for b in results} for a in results
    }


def display_rank(result: Result) -> int:
    """Where a result's row goes in the report: the position of the entry in RUNTIMES it came from."""
    name = result.runtime
    return next(i for i, n in enumerate(RUNTIMES) if name == n or name.startswith(n + "-"))


def run(quick: bool = False, out: Path | None = None, only: list[str] | None = None) -> dict:
    """Measure every runtime (or `only` those), write the report, return it."""
    from nowwhat.data import load_raw
    from nowwhat.export import load_export
    from nowwhat.onnx_runtime.convert import ensure_converted as ensure_onnx
    from nowwhat.tflite.convert import ensure_converted as ensure_tflite

    cfg = SETTINGS["quick" if quick else "full"]
    out = Path(out or build_dir() / "compare")
    exported = load_export()
    ensure_tflite(in_child=True)  # this process stays free of TensorFlow until TF Serving's turn
    wanted = only or list(RUNTIMES)
    if {"onnx", "mlserver"} & set(wanted):
        ensure_onnx(in_child=True)
    test = load_raw()["test"][: cfg["reviews"]]
    texts, labels = test["review"].tolist(), test["score"].map(exported["labels"].index).to_numpy()
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "texts.json", texts)
    report_machine = {**machine(), "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}
    results: list[Result] = []
    # TF Serving is measured last: its gRPC client (the official protos) imports TensorFlow into this
    # process for good, and it should not sit there beside the Flask workers and Chromium (Binder's 2 GB).
    for name in sorted(wanted, key=lambda n: n == "tf-serving"):
        print(f"measuring {name} …", flush=True)
        start = time.perf_counter()
        if name in IN_PROCESS:
            results.append(measure_in_process(name, cfg, out / "texts.json"))
        elif name.startswith("flask-"):
            results.append(measure_flask(name.removeprefix("flask-"), cfg, texts))
        elif name == "tf-serving":
            results += measure_tf_serving(cfg, texts)
        elif name == "mlflow":
            results.append(measure_mlflow(cfg, texts))
        elif name == "mlserver":
            results += measure_mlserver(cfg, texts)
        elif name == "tfjs":
            results += measure_tfjs(cfg, texts)
        else:
            raise NowWhatError(f"unknown runtime {name!r}")
        print(f"      {time.perf_counter() - start:.1f} s", flush=True)
    results.sort(key=display_rank)
    keras = next((r for r in results if r.runtime == "keras"), None)
    rows = [r.summary(labels) for r in results]
    if keras is not None:
        from nowwhat.metrics import agreement

        for row, result in zip(rows, results, strict=True):
            row["vs_keras"] = agreement(keras.probabilities, result.probabilities)
    report = {
        "mode": "quick" if quick else "full",
        "settings": cfg,
        "concurrency": CONCURRENCY,
        "machine": report_machine,
        "data_fingerprint": exported["data_fingerprint"],
        "results": rows,
        "parity": parity_matrix(results),
    }
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "results.json", report)
    np.savez_compressed(
        out / "probabilities.npz", **{r.runtime: np.asarray(r.probabilities) for r in results}
    )
    (out / "results.md").write_text(table(report) + "\n")
    plots(report, out)
    return report


#: The report table's columns: header → (the figure in a report row, how the table shows it). One copy, for
#: the table and for anything that looks a figure up by its column (the chapter 08 exercise's check).
COLUMNS = {
    "cold start (s)": (lambda r: r["cold_start_s"], "{:.2f}"),
    "p50 (ms)": (lambda r: r["latency_p50_ms"], "{:.2f}"),
    "p99 (ms)": (lambda r: r["latency_p99_ms"], "{:.2f}"),
    "req/s at c=8": (lambda r: r["throughput_rps_c8"], "{:,.1f}"),
    "size (MB)": (lambda r: r["size_bytes"] / 1e6, "{:.2f}"),
    "peak memory (MiB)": (lambda r: r["peak_memory_mib"], "{:,.0f}"),
    "accuracy": (lambda r: r["accuracy"], "{:.3f}"),
    "same label as Keras": (lambda r: r.get("vs_keras", {}).get("same_label"), "{:.1%}"),
    "max abs. diff. vs Keras": (lambda r: r.get("vs_keras", {}).get("max_abs_diff"), "{:.1e}"),
}


def shown(row: dict, column: str) -> str:
    """A row's figure in `column` as the table shows it ("—" when not measured)."""
    value, fmt = COLUMNS[column]
    return "—" if value(row) is None else fmt.format(value(row))


def table(report: dict) -> str:
    rows, notes = [], []
    for row in report["results"]:
        name = row["runtime"]
        if row.get("note"):
            notes.append(f"{name}: {row['note']}")
            name += f" [{len(notes)}]"
        rows.append([name, *(shown(row, column) for column in COLUMNS)])
    lines = [markdown(["runtime", *COLUMNS], rows, right=set(range(1, len(COLUMNS) + 1)))]
    lines += ["", *(f"- [{i}] {note}" for i, note in enumerate(notes, 1))] if notes else []
    return "\n".join(lines)


def plots(report: dict, out: Path) -> None:
    """latency.png (p50 with p99), cold_start.png, parity.png (max |Δp| between every pair)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = report["results"]
    names = [r["runtime"] for r in rows]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    p50 = [r["latency_p50_ms"] for r in rows]
    p99 = [r["latency_p99_ms"] for r in rows]
    axes[0].barh(names, p50, color="tab:blue", label="p50")
    axes[0].scatter(p99, names, color="tab:red", marker="|", s=200, label="p99")
    axes[0].set(xscale="log", xlabel="ms per review (batch size 1, log scale)", title="Latency")
    axes[0].legend()
    axes[1].barh(names, [r["cold_start_s"] for r in rows], color="tab:green")
    axes[1].set(xlabel="seconds", title="Cold start: process start → first prediction")
    for ax in axes:
        ax.invert_yaxis()
        ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "latency_cold_start.png", dpi=110)
    plt.close(fig)

    matrix = np.array([[report["parity"][a][b]["max_abs_diff"] for b in names] for a in names])
    fig, ax = plt.subplots(figsize=(8.5, 7))
    image = ax.imshow(np.log10(np.maximum(matrix, 1e-9)), cmap="viridis_r", vmin=-9, vmax=0)
    ax.set_xticks(range(len(names)), names, rotation=60, ha="right")
    ax.set_yticks(range(len(names)), names)
    fig.colorbar(image, ax=ax, label="log10 max |Δp| (−9 = identical)")
    ax.set_title("Parity: largest probability difference between runtimes")
    fig.tight_layout()
    fig.savefig(out / "parity.png", dpi=110)
    plt.close(fig)


@reports_errors
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m nowwhat compare bench", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="small counts (CI): every runtime, few requests")
    parser.add_argument("--only", nargs="+", metavar="RUNTIME", help="measure only these (e.g. keras tfjs)")
    parser.add_argument("--out", type=Path, help="report folder (default: <build>/compare)")
    args = parser.parse_args(argv)
    report = run(quick=args.quick, out=args.out, only=args.only)
    print(table(report))
    print(f"\nwritten to {args.out or build_dir() / 'compare'}")
    return 0


WHERE = {"flask": "over HTTP", "tf": "over HTTP/gRPC", "mlflow": "over HTTP", "mlserver": "over HTTP",
         "tfjs": "in the browser page"}


def where(runtime: str) -> str:
    """How a runtime is called, in three words: in process, over the network (loopback), in a page."""
    return "in process" if runtime in IN_PROCESS else WHERE[runtime.split("-")[0]]


def highlights(report: dict) -> list[str]:
    """A few sentences a learner can read off the table, computed from it (never typed by hand)."""
    rows = {row["runtime"]: row for row in report["results"]}
    lines = []
    fastest = min(rows.values(), key=lambda r: r["latency_p50_ms"])
    slowest = max(rows.values(), key=lambda r: r["latency_p50_ms"])
    ratio = slowest["latency_p50_ms"] / fastest["latency_p50_ms"]
    lines.append(
        f"Per review, {fastest['runtime']} is fastest ({fastest['latency_p50_ms']:.3f} ms at p50) and "
        f"{slowest['runtime']} slowest ({slowest['latency_p50_ms']:.1f} ms): "
        f"{ratio:,.0f}× apart for the same model"
        + (f", about {math.log10(ratio):.0f} orders of magnitude" if ratio >= 10 else "")
        + f" ({where(fastest['runtime'])} vs {where(slowest['runtime'])}, one review at a time)."
    )
    if {"flask-naive", "flask-production"} <= rows.keys():
        naive, prod = rows["flask-naive"], rows["flask-production"]
        workers = prod.get("served", {}).get("workers")
        gunicorn = f"gunicorn, {workers} workers" if workers else "gunicorn"
        lines.append(
            f"The production Flask app ({gunicorn}, the SavedModel's signature) answers "
            f"{prod['throughput_rps_c8'] / naive['throughput_rps_c8']:.0f}× the requests of the naive 2019 "
            f"app (Flask's development server, `model.predict` per request) when "
            f"{report.get('concurrency', CONCURRENCY)} clients send one review each "
            f"({prod['throughput_rps_c8']:,.0f} vs {naive['throughput_rps_c8']:,.0f} req/s). "
            f"One request at a time it is already "
            f"{naive['latency_p50_ms'] / prod['latency_p50_ms']:.0f}× faster (p50 "
            f"{prod['latency_p50_ms']:.2f} vs {naive['latency_p50_ms']:.1f} ms): the work per request, not "
            f"only the workers. The price: {prod['peak_memory_mib'] / naive['peak_memory_mib']:.1f}× the "
            "memory (one model per worker)."
        )
    if {"tf-serving-rest", "tf-serving-grpc"} <= rows.keys():
        rest, grpc = rows["tf-serving-rest"], rows["tf-serving-grpc"]
        stand_in = " (the development server)" if rest.get("note") else ""
        lines.append(
            f"gRPC vs REST on the same server{stand_in}: p50 {grpc['latency_p50_ms']:.2f} vs "
            f"{rest['latency_p50_ms']:.2f} ms, {grpc['throughput_rps_c8']:,.0f} vs "
            f"{rest['throughput_rps_c8']:,.0f} req/s at concurrency 8."
        )
    if {"tflite-float32", "tflite-dynamic"} <= rows.keys():
        f32, dyn = rows["tflite-float32"], rows["tflite-dynamic"]
        lines.append(
            f"Dynamic-range quantization makes the LiteRT file {f32['size_bytes'] / dyn['size_bytes']:.1f}× "
            f"smaller ({f32['size_bytes'] / 1e6:.2f} → {dyn['size_bytes'] / 1e6:.2f} MB), accuracy "
            f"{f32['accuracy']:.3f} → {dyn['accuracy']:.3f} on these reviews."
        )
    clients_at_once = report.get("concurrency", CONCURRENCY)
    if {"mlserver", "mlserver-batched"} <= rows.keys():
        off, on = rows["mlserver"], rows["mlserver-batched"]
        lines.append(
            f"MLServer's adaptive batching, the same model and requests: {on['throughput_rps_c8']:,.0f} vs "
            f"{off['throughput_rps_c8']:,.0f} req/s without it with {clients_at_once} clients, p50 "
            f"{on['latency_p50_ms']:.2f} vs {off['latency_p50_ms']:.2f} ms one request at a time (a lone "
            "request waits for a batch that does not come)."
        )
    if {"mlflow", "flask-production"} <= rows.keys():
        mlflow, flask = rows["mlflow"], rows["flask-production"]
        lines.append(
            f"MLflow's scoring server on the same SavedModel: p50 {mlflow['latency_p50_ms']:.2f} ms, "
            f"{mlflow['throughput_rps_c8']:,.0f} req/s with {clients_at_once} clients, against the "
            f"production Flask app's {flask['latency_p50_ms']:.2f} ms and {flask['throughput_rps_c8']:,.0f} "
            f"req/s; cold start {mlflow['cold_start_s']:.1f} vs {flask['cold_start_s']:.1f} s."
        )
    client = [rows[n] for n in rows if n.startswith(("tflite-", "tfjs-"))]
    if client:
        small, large = min(r["size_bytes"] for r in client), max(r["size_bytes"] for r in client)
        lines.append(
            f"Client-side runtimes ship the model to every user: {small / 1e6:.2f}–{large / 1e6:.2f} MB here."
        )
    starts = sorted(rows.values(), key=lambda r: r["cold_start_s"])
    tf = [r["cold_start_s"] for r in rows.values() if not r["runtime"].startswith(WITHOUT_TENSORFLOW)]
    other = [r["cold_start_s"] for r in rows.values() if r["runtime"].startswith(WITHOUT_TENSORFLOW)]
    clients = (
        ("tflite-", "LiteRT's client"), ("onnx", "ONNX Runtime's"), ("mlserver", "MLServer (ONNX Runtime)"),
        ("tfjs-", "the TF.js page (browser already running)"),
    )  # fmt: skip
    present = [name for prefix, name in clients if any(r.startswith(prefix) for r in rows)]
    without = ", ".join(present[:-1]) + (" and " if len(present) > 1 else "") + present[-1] if present else ""
    split = (
        f": every runtime that loads TensorFlow took {min(tf):.2f} s or more, {without} {max(other):.2f} s "
        "or less, which matters for scale-to-zero and serverless"
        if tf and other and min(tf) > max(other)
        else ""
    )
    lines.append(
        f"Cold start ranges from {starts[0]['cold_start_s']:.2f} s ({starts[0]['runtime']}) to "
        f"{starts[-1]['cold_start_s']:.2f} s ({starts[-1]['runtime']}){split}."
    )
    return lines


def versions(report: dict) -> str:
    """One sentence: which model version each server-side row was asked for and answered with."""
    parts = []
    for row in report["results"]:
        served = row.get("served") or {}
        if "version" in served:
            loaded = served.get("loaded")
            also = f" of {', '.join(map(str, loaded))} loaded" if loaded and len(loaded) > 1 else ""
            parts.append(f"{row['runtime']} v{served['version']}{also}")
        elif "model" in served:
            parts.append(f"{row['runtime']} {served['model']}")
    return "Model compared: " + "; ".join(parts) + "." if parts else "The report names no served versions."
