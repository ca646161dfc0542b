"""Size, accuracy, agreement and speed of every LiteRT level: `make bench-tflite`.

`python -m nowwhat tflite bench` measures, for each quantization level, through the demo's edge client
(`demos/tflite/classify.py`) in `ai_edge_litert` on this machine with one interpreter thread: file size,
accuracy on the 1,000 test reviews, agreement with Keras, time to load the model, and the median time per
review for the model alone (token ids in, probabilities out: one interpreter call) and end to end (text
in: tokenizer + model).
Figures are medians over every review and repeat of one run, written to <build>/tflite/benchmark.json;
`--record` keeps the run as the one demos/tflite/README.md shows (`make bench-tflite RECORD=1`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import textwrap
import time
from pathlib import Path

from nowwhat import artifacts
from nowwhat.artifacts import machine, write_json
from nowwhat.errors import reports_errors
from nowwhat.paths import REPO_ROOT
from nowwhat.tables import markdown

DEMO_DIR = REPO_ROOT / "demos" / "tflite"
#: The run the demo's README shows (`make bench-tflite RECORD=1`), and where in the README it goes.
RECORDED = DEMO_DIR / "benchmark.json"
BEGIN = "<!-- tflite-benchmark: generated from benchmark.json by `make bench-tflite RECORD=1` -->"
END = "<!-- /tflite-benchmark -->"


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1e3, 4)


def timings(edge, texts: list[str], repeats: int) -> dict:
    """Per-review latency (one review per call, as a device classifies what a user just typed)."""
    import numpy as np

    ids = np.array([edge.encode(text) for text in texts], np.int32)
    for i in range(min(20, len(ids))):  # warm-up: the first calls allocate and pack weights
        edge.predict_ids(ids[i : i + 1])
    model, end_to_end = [], []
    for _ in range(repeats):
        for i in range(len(ids)):
            start = time.perf_counter()
            edge.predict_ids(ids[i : i + 1])
            model.append(time.perf_counter() - start)
        for text in texts:
            start = time.perf_counter()
            edge.predict([text])
            end_to_end.append(time.perf_counter() - start)
    return {
        "model_p50_ms": _median_ms(model),
        "model_p90_ms": round(sorted(model)[int(0.9 * len(model))] * 1e3, 4),
        "end_to_end_p50_ms": _median_ms(end_to_end),
    }


def load_ms(level: str, loads: int = 5) -> float:
    """Median time to open the model and allocate its tensors (a cold start on the device)."""
    from nowwhat.tflite.evaluate import classifier

    samples = []
    for _ in range(loads):
        start = time.perf_counter()
        classifier(level, num_threads=1)
        samples.append(time.perf_counter() - start)
    return _median_ms(samples)


def benchmark(reviews: int = 1000, repeats: int = 5, out: Path | None = None) -> dict:
    """Every level; returns the figures and writes them to `out` (<build>/tflite/benchmark.json)."""
    import ai_edge_litert

    from nowwhat.tflite.convert import ensure_converted, tflite_dir
    from nowwhat.tflite.evaluate import classifier, evaluate, reference_reviews

    manifest = ensure_converted()
    reference = reference_reviews(reviews)
    rows = evaluate(reference)
    for row in rows:
        row["load_ms"] = load_ms(row["level"])
        row.update(timings(classifier(row["level"], num_threads=1), reference[0], repeats))
    result = {
        "environment": {
            "runtime": f"ai_edge_litert {_version(ai_edge_litert)} (XNNPACK, 1 thread)",
            "converter": manifest["converter"],
            **machine(),
        },
        "settings": {"test_reviews": len(reference[0]), "repeats": repeats},
        "levels": rows,
    }
    write_json(out or tflite_dir() / "benchmark.json", result)
    return result


def _version(module) -> str:
    from importlib.metadata import version

    return getattr(module, "__version__", None) or version("ai-edge-litert")


def table(result: dict) -> str:
    """The figures as a Markdown table (README, notebook)."""
    header = [
        "level", "size", "of float32", "test accuracy", "same label as Keras", "max abs diff vs Keras",
        "load (ms)", "model p50 (ms/review)", "end to end p50 (ms/review)",
    ]  # fmt: skip
    rows = [
        [
            r["level"],
            f"{r['bytes'] / 1e3:,.0f} kB",
            f"{r['share_of_float32']:.1%}",
            f"{r['test_accuracy']:.3f}",
            f"{r['same_label']:.1%}",
            f"{r['max_abs_diff']:.1e}",
            f"{r['load_ms']:.2f}",
            f"{r['model_p50_ms']:.4f}",
            f"{r['end_to_end_p50_ms']:.4f}",
        ]
        for r in result["levels"]
    ]
    return markdown(header, rows, right=set(range(1, 9)))


def readme_section(result: dict) -> str:
    """What demos/tflite/README.md shows of a run: how it was run and the table, from the results file."""
    env, settings = result["environment"], result["settings"]
    how = (
        f"One run of `make bench-tflite` on a {env['cpus']}-core {env['machine']} machine ({env['cpu']}), "
        f"{env['runtime']}, the {settings['test_reviews']:,} test reviews, Keras at "
        f"{result['levels'][0]['keras_test_accuracy']:.3f} accuracy. Latency is the median per review, one "
        f"review per call, over {settings['repeats']} passes; *end to end* includes tokenizing in Python."
    )
    return f"{BEGIN}\n{textwrap.fill(how, width=105, break_on_hyphens=False)}\n\n{table(result)}\n{END}"


def plot(result: dict):
    """Size against accuracy (left) and latency per review (right), one point or bar per level."""
    import matplotlib.pyplot as plt

    rows = result["levels"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
    for r in rows:
        left.scatter(r["bytes"] / 1e3, r["test_accuracy"], s=80)
        left.annotate(
            r["level"], (r["bytes"] / 1e3, r["test_accuracy"]), textcoords="offset points", xytext=(6, 6)
        )
    keras = rows[0]["keras_test_accuracy"]
    left.axhline(keras, color="grey", linestyle="--", linewidth=1, label=f"Keras {keras:.3f}")
    left.axhline(keras - 0.01, color="tab:red", linestyle=":", label="1 point lower")
    left.set(xlabel="file size (kB)", ylabel="accuracy, 1,000 test reviews", title="size vs accuracy")
    left.legend(loc="lower right")
    left.grid(alpha=0.3)
    names = [r["level"] for r in rows]
    positions = range(len(rows))
    right.barh(
        [p + 0.2 for p in positions], [r["end_to_end_p50_ms"] * 1e3 for r in rows], 0.4, label="text in"
    )
    right.barh([p - 0.2 for p in positions], [r["model_p50_ms"] * 1e3 for r in rows], 0.4, label="model only")
    right.set_yticks(list(positions), names)
    right.set(xlabel="median µs per review (1 thread)", title="latency")
    right.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2)
    right.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return fig


@reports_errors
def main(argv: list[str] | None = None) -> int:
    top = argparse.ArgumentParser(prog="python -m nowwhat tflite bench", description=__doc__)
    top.add_argument("--reviews", type=int, default=1000, help="test reviews (default: all 1,000)")
    top.add_argument("--repeats", type=int, default=5, help="passes over the reviews for the timings")
    top.add_argument("--record", action="store_true", help="maintainers: keep this run in the demo's README")
    args = top.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    result = benchmark(args.reviews, args.repeats)
    print(table(result))
    if args.record:
        artifacts.record(result, RECORDED, DEMO_DIR / "README.md", BEGIN, END, readme_section(result))
    return 0
