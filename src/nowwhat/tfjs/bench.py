"""How fast and how exact the browser is: `python -m nowwhat tfjs bench` (or `make bench-tfjs`).

For each backend (cpu, webgl) and weight type (float32, float16), in headless Chromium on this machine:
page ready time (navigation start → model loaded and warmed up, fresh browser cache each time), single
review predictions per second, and accuracy and agreement with Keras on the test reviews. Figures are
medians over repeats of one run, written to <build>/tfjs/benchmark.json; `--record` keeps the run as the
one demos/tfjs/README.md shows (`make bench-tfjs RECORD=1`).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import textwrap
from pathlib import Path

from nowwhat import artifacts
from nowwhat.artifacts import machine, write_json
from nowwhat.errors import NowWhatError, reports_errors
from nowwhat.tables import markdown
from nowwhat.tfjs.browser import (
    BACKENDS,
    DEMO_DIR,
    chromium,
    demo_url,
    off_event_loop,
    open_demo,
    predict,
    state,
)  # fmt: skip

#: The run the demo's README shows (`make bench-tfjs RECORD=1`), and where in the README it goes.
RECORDED = DEMO_DIR / "benchmark.json"
BEGIN = "<!-- tfjs-benchmark: generated from benchmark.json by `make bench-tfjs RECORD=1` -->"
END = "<!-- /tfjs-benchmark -->"

#: What the demo aims for: usable within 2 s of opening the page, and the cpu backend fast enough to
#: predict on every pause in typing many times over.
TARGETS = {"ready_ms_max": 2000, "cpu_predictions_per_s_min": 200}

#: Runs in the page: predict one review again and again for `ms` milliseconds → predictions per second.
_RATE = """async ([text, ms]) => {
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < ms) { await window.reviewDemo.predict([text]); n++; }
  return n / ((performance.now() - start) / 1000);
}"""


def keras_reference(n: int):
    """Test texts, true label ids and Keras probabilities for the first n test reviews (Keras runs in a
    child process: the caller, often a notebook kernel driving Chromium, stays free of TensorFlow)."""
    from nowwhat.compare.probe import keras_in_subprocess
    from nowwhat.data import load_splits

    splits = load_splits()
    texts, labels = splits.texts("test")[:n], splits.label_ids("test")[:n]
    return texts, labels, keras_in_subprocess(texts)


def measure(browser, url: str, backend: str, weights: str, keras: tuple, loads: int, seconds: float):
    """One runtime configuration: ready times over fresh loads, rate, accuracy and parity vs Keras."""
    from nowwhat.metrics import agreement, classification_metrics

    texts, labels, reference = keras
    ready, info, rates = [], {}, []
    for _ in range(loads):
        page, traffic = open_demo(browser, url, backend, weights)
        info = state(page)
        if info["state"] != "ready":
            raise NowWhatError(f"the demo failed on {backend}/{weights}: {info.get('error')}")
        ready.append(info["readyMs"])
        page.context.close()
    page, traffic = open_demo(browser, url, backend, weights)
    for _ in range(3):
        rates.append(page.evaluate(_RATE, [texts[0], seconds * 1000]))
    probabilities = predict(page, texts)
    page.context.close()
    return {
        "backend": info["backend"],
        "weights": weights,
        "tfjs_runtime": info["tfjs"],
        "model_bytes_downloaded": info["modelBytes"],
        "ready_ms_median": round(statistics.median(ready), 1),
        "ready_ms": [round(r, 1) for r in ready],
        "predictions_per_s_median": round(statistics.median(rates), 1),
        "predictions_per_s": [round(r, 1) for r in rates],
        "test_accuracy": classification_metrics(labels, probabilities)["accuracy"],
        "vs_keras": agreement(reference, probabilities),
        "requests_off_machine": len(traffic.off_machine),
    }


@off_event_loop
def benchmark(
    loads: int = 5,
    seconds: float = 2.0,
    reviews: int = 1000,
    screenshot: Path | None = None,
    out: Path | None = None,
    url: str | None = None,
):
    """Every backend × weight type: returns the figures, writes them to `out` (default benchmark.json).
    `url`: a demo server already running (a notebook's); by default one is started for the run."""
    from nowwhat.metrics import classification_metrics
    from nowwhat.tfjs.browser import type_review
    from nowwhat.tfjs.convert import ensure_converted, tfjs_dir

    manifest = ensure_converted()
    keras = keras_reference(reviews)
    texts, labels, reference = keras
    runs = []
    with demo_url(url) as base:
        for weights in manifest["bytes"]:
            for backend in BACKENDS:
                # A fresh browser per configuration: the WebGL backend's memory in the browser process
                # does not carry over into the next one (on Binder's 2 GB that matters).
                with chromium() as browser:
                    runs.append(measure(browser, base, backend, weights, keras, loads, seconds))
                    browser_version = browser.version
        if screenshot:
            with chromium() as browser:
                page, _ = open_demo(browser, base, "cpu", "float32")
                type_review(page, "Stale, overpriced and the bag arrived torn. Would not buy again.")
                page.screenshot(path=str(screenshot), full_page=True)
    cpu32 = next(r for r in runs if r["backend"] == "cpu" and r["weights"] == "float32")
    result = {
        "environment": {
            "browser": f"Chromium {browser_version} (headless, --disable-gpu: webgl runs on SwiftShader)",
            "tfjs_runtime": ", ".join(sorted({r.pop("tfjs_runtime") for r in runs})),
            "converter": manifest["converter"],
            **machine(),
        },
        "settings": {"page_loads": loads, "seconds_per_rate_run": seconds, "test_reviews": len(texts)},
        "model_bytes": manifest["bytes"],
        "keras_test_accuracy": classification_metrics(labels, reference)["accuracy"],
        "runs": runs,
        "targets": TARGETS,
        "targets_met": {
            "ready": all(r["ready_ms_median"] <= TARGETS["ready_ms_max"] for r in runs),
            "cpu_rate": cpu32["predictions_per_s_median"] >= TARGETS["cpu_predictions_per_s_min"],
        },
    }
    write_json(out or tfjs_dir() / "benchmark.json", result)
    return result


def table(result: dict) -> str:
    """The figures as a Markdown table (README, notebook)."""
    header = [
        "weights", "backend", "model bytes", "ready (ms, median)", "predictions/s (median)",
        "test accuracy", "max abs diff vs Keras",
    ]  # fmt: skip
    rows = [
        [
            r["weights"],
            r["backend"],
            f"{r['model_bytes_downloaded']:,}",
            f"{r['ready_ms_median']:.0f}",
            f"{r['predictions_per_s_median']:.0f}",
            f"{r['test_accuracy']:.3f}",
            f"{r['vs_keras']['max_abs_diff']:.1e}",
        ]
        for r in result["runs"]
    ]
    return markdown(header, rows, right={2, 3, 4, 5, 6})


def findings(result: dict, parity: dict | None = None) -> str:
    """What the figures say, as Markdown bullets computed from them (so the prose cannot disagree with
    the table above it). `parity`: `browser.parity()` on the shared vectors, if it was run."""
    runs = {(r["weights"], r["backend"]): r for r in result["runs"]}
    n, size = result["settings"]["test_reviews"], result["model_bytes"]
    accuracy = {(w, b): r["test_accuracy"] for (w, b), r in runs.items()}
    moved = max(round(abs(accuracy["float16", b] - accuracy["float32", b]) * n) for b in BACKENDS)
    diff = {w: max(runs[w, b]["vs_keras"]["max_abs_diff"] for b in BACKENDS) for w in size}
    shared = ""
    if parity:
        shared = f" ({max(p['max_abs_diff'] for p in parity.values()):.1e} on the shared vectors)"
    small = moved <= n // 200 and diff["float16"] < 1e-3  # at most half a percent of the reviews
    verdict = "for this model, ship float16" if small else "weigh the saving against that"
    ready = max(result["runs"], key=lambda r: r["ready_ms_median"])
    aim = TARGETS["ready_ms_max"]
    fastest = max(result["runs"], key=lambda r: r["predictions_per_s_median"])
    cpu = runs["float32", "cpu"]["predictions_per_s_median"]
    sizes = f"{size['float32']:,} → {size['float16']:,} bytes"
    weights = (
        f"- **float16 is {size['float16'] / size['float32']:.0%} of the download** ({sizes}); its "
        f"probabilities differ from Keras' by at most {diff['float16']:.1e} on the {n} test reviews, and "
        f"its accuracy from float32's by {moved} review(s) in {n}: {verdict}. float32 differs from Keras "
        f"by at most {diff['float32']:.1e}{shared}: the same arithmetic, in another order."
    )
    within = "within" if ready["ready_ms_median"] <= aim else "over"
    loads = result["settings"]["page_loads"]
    loading = (
        f"- **Ready** (median of {loads} fresh load{'s' * (loads != 1)}): the slowest "
        f"configuration, {ready['weights']} / {ready['backend']}, took {ready['ready_ms_median']:,.0f} ms, "
        f"{within} the demo's aim of {aim / 1000:g} s."
    )
    speed = (
        f"- **Predictions**: the fastest configuration, {fastest['weights']} / {fastest['backend']}, made "
        f"{fastest['predictions_per_s_median']:,.0f} single-review predictions per second; float32 / cpu "
        f"made {cpu:,.0f} ({1000 / cpu:.1f} ms each): predicting at each pause in typing costs little."
    )
    return "\n".join([weights, loading, speed])


def readme_section(result: dict) -> str:
    """What demos/tfjs/README.md shows of a run: how it was run, the table, the findings, every figure
    from the results file."""
    env, settings = result["environment"], result["settings"]
    how = (
        f"One run of `make bench-tfjs` in {env['browser']} with TF.js {env['tfjs_runtime']}, on a "
        f"{env['cpus']}-core {env['machine']} machine ({env['cpu']}) with no GPU. *Ready* is navigation "
        f"start → model fetched, loaded and warmed up, with an empty browser cache (median of "
        f"{settings['page_loads']} loads); *predictions/s* is one review at a time, tokenizer included "
        f"(median of 3 runs of {settings['seconds_per_rate_run']:g} s); accuracy and the largest "
        f"difference from Keras are over the {settings['test_reviews']:,} test reviews (Keras: "
        f"{result['keras_test_accuracy']:.3f})."
    )
    wrap = functools.partial(textwrap.fill, width=105, break_on_hyphens=False)
    return f"{BEGIN}\n{wrap(how)}\n\n{table(result)}\n\n{findings(result)}\n{END}"


@reports_errors
def main(argv: list[str] | None = None) -> int:
    top = argparse.ArgumentParser(prog="python -m nowwhat tfjs bench", description=__doc__)
    top.add_argument("--loads", type=int, default=5, help="fresh page loads per configuration")
    top.add_argument("--seconds", type=float, default=2.0, help="length of each predictions/s run")
    top.add_argument("--reviews", type=int, default=1000, help="test reviews for accuracy and parity")
    top.add_argument("--screenshot", type=Path, help="also save a screenshot of the demo here")
    top.add_argument("--record", action="store_true", help="maintainers: keep this run in the demo's README")
    args = top.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    result = benchmark(args.loads, args.seconds, args.reviews, args.screenshot)
    print(table(result))
    print(json.dumps({"keras_test_accuracy": result["keras_test_accuracy"], **result["targets_met"]}))
    if args.record:
        artifacts.record(result, RECORDED, DEMO_DIR / "README.md", BEGIN, END, readme_section(result))
    return 0
