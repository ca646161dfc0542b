"""Build the talk: slides/deck.md + measured figures → <build>/slides/deck.html and deck.pdf (`make slides`).

The deck's source holds no numbers of its own. Each `<!-- figure: NAME -->` line is replaced by a table
made from a result file under the build folder (a benchmark JSON, the model manifest, the memory report),
with a caption saying where and when it was measured. A missing result becomes a note naming the command
that produces it, never a made-up figure. Marp (npm, pinned in slides/package-lock.json) turns the filled
Markdown into HTML, and into PDF through Debian's Chromium.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from nowwhat.artifacts import staged, write_manifest
from nowwhat.errors import NowWhatError, reports_errors
from nowwhat.paths import REPO_ROOT, build_dir
from nowwhat.tables import markdown

SLIDES = REPO_ROOT / "slides"
DECK = SLIDES / "deck.md"
IMAGES = REPO_ROOT / "images"
MARP = SLIDES / "node_modules" / ".bin" / "marp"
CHROMIUM = os.environ.get("NOWWHAT_CHROMIUM", "/usr/bin/chromium")
MARKER = re.compile(r"^<!-- figure: (?P<name>[a-z0-9-]+) -->$", re.MULTILINE)
MEASURED = "measured"  # where the deck's copies of the benchmarks' plots go, next to images/
IMAGE_LINK = re.compile(r"!\[[^\]]*\]\((?P<path>[^)\s]+)\)")


def model_card(result: dict) -> str:
    test = result["metrics"]["test"]
    return markdown(
        ["test reviews", "accuracy", "macro-F1", "parameters", "training time"],
        [
            [
                test["n"],
                f"{test['accuracy']:.3f}",
                f"{test['macro_f1']:.3f}",
                f"{result['parameters']:,}",
                f"{result['train_seconds']:.0f} s ({result['epochs_run']} epochs)",
            ]
        ],
    )


def flask_table(result: dict) -> str:
    rows = [
        [
            r["server"],
            r["concurrency"],
            f"{r['requests_per_s']:.0f}",
            f"{r['p50_ms']:.1f} ms",
            f"{r['p99_ms']:.1f} ms",
            r["errors"],
            f"{r['server_rss_mib_total']:.0f} MiB",
        ]
        for r in result["rows"]
    ]
    header = ["server", "concurrency", "requests/s", "p50", "p99", "errors", "server memory"]
    speedup = ", ".join(f"{c}: {'n/a' if x is None else f'{x}×'}" for c, x in result["speedup"].items())
    ceiling = result["ceiling"]["calls_per_s"]
    return (
        f"{markdown(header, rows)}\n\nproduction ÷ naive requests/s by concurrency — {speedup}; "
        f"in-process ceiling {ceiling:.0f} calls/s"
    )


def tf_serving_table(result: dict) -> str:
    rows = [
        [
            r["batch"],
            f"{r['median_ms']['rest']:.2f} ms",
            f"{r['median_ms']['grpc']:.2f} ms",
            f"{r['rest_over_grpc']}×",
        ]
        for r in result["results"]
    ]
    header = ["batch", "REST (median)", "gRPC (median)", "REST ÷ gRPC"]
    return f"{markdown(header, rows)}\n\nserved by {result['server']}"


def tfjs_figure(result: dict) -> str:
    from nowwhat.tfjs.bench import table as tfjs_table

    settings = f"{result['environment']['browser']}; {result['settings']['test_reviews']} test reviews"
    return f"{tfjs_table(result)}\n\n{settings}"


def tflite_figure(result: dict) -> str:
    from nowwhat.tflite.bench import table as tflite_table

    settings = f"{result['environment']['runtime']}; {result['settings']['test_reviews']} test reviews"
    return f"{tflite_table(result)}\n\n{settings}"


def _quick_note(result: dict) -> str:
    return "\n\n**Quick run (small counts, as in CI): run `make bench` for the real figures.**" * (
        result.get("mode") == "quick"
    )


def compare_figure(result: dict) -> str:
    from nowwhat.compare.bench import table as compare_table

    return compare_table(result) + _quick_note(result)


def compare_highlights(result: dict) -> str:
    from nowwhat.compare.bench import highlights

    return "\n".join(f"- {line}" for line in highlights(result)) + _quick_note(result)


#: The comparison's rows for the talk's other options, today (chapter 06), against Keras in process.
OTHER_OPTIONS = ("keras", "mlflow", "mlserver", "mlserver-batched", "onnx")


def other_options(result: dict) -> str:
    rows = [
        [
            r["runtime"],
            f"{r['cold_start_s']:.1f} s",
            f"{r['latency_p50_ms']:.2f} ms",
            "—" if r["throughput_rps_c8"] is None else f"{r['throughput_rps_c8']:,.0f}",
            f"{r['peak_memory_mib']:,.0f} MiB",
            f"{r.get('vs_keras', {}).get('max_abs_diff', 0):.1e}",
        ]
        for name in OTHER_OPTIONS
        for r in result["results"]
        if r["runtime"] == name
    ]
    header = ["runtime", "cold start", "p50", "req/s at c=8", "peak memory", "max |Δp| vs Keras"]
    return markdown(header, rows) + _quick_note(result)


def batching_figure(result: dict) -> str:
    from nowwhat.open_inference.bench import table as batching_table

    settings = result["settings"]
    return (
        f"{batching_table(result)}\n\nsingle-review V2 requests, {settings['seconds_per_run']:g} s per row; "
        f"batching: at most {settings['max_batch_size']} reviews, {settings['max_batch_time_ms']} ms"
    )


def targets_table(_: dict) -> str:
    from nowwhat.compare.targets import WORDS, legend, table

    return f"{table(marks=WORDS)}\n\n{legend(WORDS)}"


def memory_table(result: dict) -> str:
    rows = [
        [
            n["notebook"],
            f"{n['peak_rss_mb']:.0f} MB",
            f"{n['peak_pss_mb']:.0f} MB",
            f"{n['seconds']:.0f} s",
            "yes" if n["peak_rss_mb"] <= result["budget_mb"] else "**no**",
            "ok" if n["status"] == "ok" else "**failed**",
        ]
        for n in result["notebooks"]
    ]
    budget = f"RSS under {result['budget_mb'] / 1024:.1f} GB?"
    return markdown(["notebook", "peak RSS", "peak PSS", "run time", budget, "ran"], rows)


@dataclass(frozen=True)
class Figure:
    """A table or a plot in the deck: the result file it is made from (a path under the build folder; None:
    made from the code alone), the command that writes that file, how a JSON result becomes Markdown (a
    PNG is shown as it is), and the command that measures this chapter alone, if there is one."""

    source: str | None
    produced_by: str
    render: Callable[[dict], str] | None = None
    alone: str | None = None


FIGURES = {
    "model": Figure("model/manifest.json", "make workshop", model_card),
    "flask": Figure("flask/benchmark.json", "make bench", flask_table, "make bench-flask"),
    "tf-serving": Figure(
        "tf-serving/benchmark.json", "make bench", tf_serving_table, "make bench-tf-serving"
    ),
    "tfjs": Figure("tfjs/benchmark.json", "make bench", tfjs_figure, "make bench-tfjs"),
    "tflite": Figure("tflite/benchmark.json", "make bench", tflite_figure, "make bench-tflite"),
    "compare": Figure("compare/results.json", "make bench", compare_figure, "make bench-compare"),
    "compare-highlights": Figure(
        "compare/results.json", "make bench", compare_highlights, "make bench-compare"
    ),
    "compare-latency": Figure("compare/latency_cold_start.png", "make bench", None, "make bench-compare"),
    "compare-parity": Figure("compare/parity.png", "make bench", None, "make bench-compare"),
    "other-options": Figure("compare/results.json", "make bench", other_options, "make bench-compare"),
    "batching": Figure("mlserver/batching.json", "make bench", batching_figure, "make bench-mlserver"),
    "targets": Figure(None, "", targets_table),
    "memory": Figure("memory/memory.json", "make memory", memory_table),
}


def measured_on(path: Path, result: dict, source: str) -> str:
    """When and where a result was measured, from the file itself (its date, else its modification time)."""
    env = result.get("environment") or result.get("machine") or {}
    when = result.get("created") or dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).isoformat()
    kind = env.get("machine") or env.get("cpu")
    where = f", {env['cpus']} CPUs ({kind})" if "cpus" in env and kind else ""
    return f"measured {when[:10]}{where} · from `build/{source}`"


def render_figure(name: str, build: Path) -> tuple[str, bool]:
    """(Markdown, measured?) for one figure; a missing result gives the command that produces it."""
    if name not in FIGURES:
        raise NowWhatError(f"slides/deck.md asks for an unknown figure {name!r}: known are {sorted(FIGURES)}")
    figure = FIGURES[name]
    if figure.source is None:  # from the code: every ✅ in it is a test (tests/test_targets.py)
        return f"{figure.render({})}\n\n*from `src/nowwhat/compare/targets.py`*", True
    path = build / figure.source
    if not path.exists():
        alone = f"; this chapter alone: `{figure.alone}`" if figure.alone else ""
        return (
            f"> **Not measured on this machine yet.** Run `{figure.produced_by}` (it writes "
            f"`build/{figure.source}`{alone}), then `make slides`.",
            False,
        )
    if figure.render is None:  # a plot the benchmark drew: copied into the deck by build()
        return (
            f"![h:440 center]({MEASURED}/{figure.source})\n\n*{measured_on(path, {}, figure.source)}*",
            True,
        )
    try:
        result = json.loads(path.read_text())
        body = figure.render(result)
    except (ValueError, KeyError, TypeError) as exc:
        raise NowWhatError(
            f"build/{figure.source} does not hold what the {name!r} figure reads "
            f"({type(exc).__name__}: {exc}): run `{figure.produced_by}` again"
        ) from exc
    return f"{body}\n\n*{measured_on(path, result, figure.source)}*", True


def fill(markdown: str, build: Path) -> tuple[str, dict[str, bool]]:
    """The deck with every figure marker replaced; and which figures were measured."""
    measured = {}

    def replace(match: re.Match) -> str:
        text, measured[match["name"]] = render_figure(match["name"], build)
        return text

    return MARKER.sub(replace, markdown), measured


def images(markdown: str) -> list[str]:
    """Every image path the Markdown links to, as written."""
    return IMAGE_LINK.findall(markdown)


def marp(source: Path, output: Path, *extra: str) -> None:
    if not MARP.exists():
        raise NowWhatError(f"Marp is not installed in {SLIDES}: run `make setup-slides`")
    command = [str(MARP), "--no-stdin", "--allow-local-files", *extra, str(source), "-o", str(output)]
    env = {**os.environ, "CHROME_PATH": CHROMIUM}
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, check=False)
    if result.returncode != 0 or not output.exists():
        raise NowWhatError(
            f"Marp could not build {output.name}: {(result.stderr or result.stdout).strip()[-800:]}"
        )


def build(out: Path | None = None, pdf: bool = True) -> dict:
    """Fill the deck from <build>, copy its images, render HTML (and PDF); return the manifest."""
    out = Path(out or build_dir() / "slides")
    if pdf and not Path(CHROMIUM).exists():
        raise NowWhatError(
            f"Chromium is not installed at {CHROMIUM}: run `make setup-slides` (or pass --no-pdf)"
        )
    markdown, measured = fill(DECK.read_text(), build_dir())
    markdown = markdown.replace("](../images/", "](images/")
    with staged(out) as tmp:
        for link in images(markdown):
            folder, _, rest = link.partition("/")
            source = (build_dir() if folder == MEASURED else IMAGES) / rest
            if folder not in ("images", MEASURED) or not source.exists():
                raise NowWhatError(f"slides/deck.md links to {link}, which does not exist: run `make images`")
            (tmp / link).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, tmp / link)
        (tmp / "deck.md").write_text(markdown)
        marp(tmp / "deck.md", tmp / "deck.html")
        if pdf:
            marp(tmp / "deck.md", tmp / "deck.pdf", "--pdf", "--pdf-notes")
        manifest = write_manifest(
            tmp,
            "slides",
            slides=(tmp / "deck.html").read_text().count("<section"),
            figures={name: "measured" if ok else "not measured" for name, ok in measured.items()},
            outputs=sorted(p.name for p in tmp.glob("deck.*")),
        )
    return manifest


@reports_errors
def main(argv: list[str] | None = None) -> int:
    top = argparse.ArgumentParser(prog="python -m nowwhat slides build", description=__doc__.splitlines()[0])
    top.add_argument("--out", type=Path, help="output folder (default: <build>/slides)")
    top.add_argument("--no-pdf", action="store_true", help="HTML only (no Chromium needed)")
    args = top.parse_args(argv)
    manifest = build(args.out, pdf=not args.no_pdf)
    out = args.out or build_dir() / "slides"
    missing = [name for name, state in manifest["figures"].items() if state != "measured"]
    print(f"built {', '.join(manifest['outputs'])} in {out} ({manifest['slides']} slides)")
    if missing:
        print(f"not measured yet (the deck says which command to run): {', '.join(missing)}")
    return 0
