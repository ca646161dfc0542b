"""slides/: the deck builds with Marp, links only images that exist, and takes its figures from result files.

The build test fills the deck from a private build folder holding made-up results with distinctive
numbers, so it can check that exactly those numbers reach the rendered slides.
"""

from __future__ import annotations

import functools
import http.server
import json
import threading

import pytest
from PIL import Image

from nowwhat.errors import NowWhatError
from nowwhat.workshop import slides

TFJS_RESULT = {
    "environment": {"browser": "Chromium test", "cpus": 2, "machine": "x86_64"},
    "settings": {"test_reviews": 1000},
    "runs": [
        {
            "backend": "cpu",
            "weights": "float32",
            "model_bytes_downloaded": 1_287_973,
            "ready_ms_median": 317.0,
            "predictions_per_s_median": 4321.0,
            "test_accuracy": 0.812,
            "vs_keras": {"max_abs_diff": 1.2e-7},
        },
    ],
}
MODEL_RESULT = {
    "created": "2026-01-02T03:04:05+00:00",
    "parameters": 320034,
    "train_seconds": 6.0,
    "epochs_run": 7,
    "metrics": {"test": {"n": 1000, "accuracy": 0.8123, "macro_f1": 0.7745}},
}


def _write(build, source: str, payload) -> None:
    path = build / source
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload))


def test_the_deck_links_only_images_that_exist_and_uses_every_diagram():
    links = slides.images(slides.DECK.read_text())
    assert links, "the deck shows no diagram"
    for link in links:
        assert (slides.SLIDES / link).resolve().is_file(), link
    used = {link.rsplit("/", 1)[-1] for link in links}
    assert used >= {
        "lifecycle.svg",
        "decision-tree.svg",
        "serving-alone.svg",
        "serving-docker.svg",
        "serving-kubernetes.svg",
    }


def test_every_figure_in_the_deck_has_a_source_and_every_source_is_shown():
    asked = slides.MARKER.findall(slides.DECK.read_text())
    assert sorted(asked) == sorted(slides.FIGURES)


def test_every_slide_has_speaker_notes():
    body = slides.DECK.read_text().split("\n---\n", 1)[1]  # after the front matter
    for number, slide in enumerate(body.split("\n---\n"), 1):
        notes = [c for c in slide.split("<!--")[1:] if not c.lstrip().startswith(("_", "figure:"))]
        title = next((line for line in slide.splitlines() if line.startswith("#")), "")
        assert notes or title.startswith("# "), f"slide {number} {title!r} has no speaker notes"


def test_a_missing_result_names_the_command_instead_of_a_number(tmp_path):
    filled, measured = slides.fill("<!-- figure: tfjs -->\n\n<!-- figure: model -->", tmp_path)
    assert measured == {"tfjs": False, "model": False}
    assert (
        "Run `make bench` (it writes `build/tfjs/benchmark.json`; this chapter alone: `make bench-tfjs`)"
        in filled
    )
    assert "Run `make workshop` (it writes `build/model/manifest.json`)" in filled
    assert "|" not in filled


def test_figures_are_the_numbers_in_the_result_files(tmp_path):
    _write(tmp_path, "tfjs/benchmark.json", TFJS_RESULT)
    _write(tmp_path, "model/manifest.json", MODEL_RESULT)
    filled, measured = slides.fill("<!-- figure: tfjs -->\n<!-- figure: model -->", tmp_path)
    assert measured == {"tfjs": True, "model": True}
    assert "| float32 | cpu | 1,287,973 | 317 | 4321 | 0.812 | 1.2e-07 |" in filled
    assert "| 1000 | 0.812 | 0.774 | 320,034 | 6 s (7 epochs) |" in filled
    assert "measured 2026-01-02 · from `build/model/manifest.json`" in filled
    assert "2 CPUs (x86_64) · from `build/tfjs/benchmark.json`" in filled


FLASK_RESULT = {
    "rows": [
        {
            "server": "naive",
            "concurrency": 8,
            "requests_per_s": 41.2,
            "p50_ms": 190.0,
            "p99_ms": 420.5,
            "errors": 0,
            "server_rss_mib_total": 402.0,
        },
        {
            "server": "production",
            "concurrency": 8,
            "requests_per_s": 987.6,
            "p50_ms": 7.9,
            "p99_ms": 21.3,
            "errors": 0,
            "server_rss_mib_total": 611.0,
        },
    ],
    "speedup": {"8": 24.0, "32": None},
    "ceiling": {"calls_per_s": 1500.4},
}
SERVING_RESULT = {
    "server": "the DEVELOPMENT server (a Python stand-in, NOT TensorFlow Serving)",
    "results": [{"batch": 1, "median_ms": {"rest": 3.766, "grpc": 2.638}, "rest_over_grpc": 1.43}],
}
TFLITE_RESULT = {
    "environment": {"runtime": "ai_edge_litert 9.9 (XNNPACK, 1 thread)"},
    "settings": {"test_reviews": 1000},
    "levels": [
        {
            "level": "int8",
            "bytes": 330_000,
            "share_of_float32": 0.257,
            "test_accuracy": 0.806,
            "same_label": 0.981,
            "max_abs_diff": 0.021,
            "load_ms": 1.5,
            "model_p50_ms": 0.0101,
            "end_to_end_p50_ms": 0.0612,
        },
    ],
}

MEMORY_RESULT = {
    "budget_mb": 1536,
    "notebooks": [
        {
            "notebook": "01_train.ipynb",
            "peak_rss_mb": 815.4,
            "peak_pss_mb": 773.3,
            "seconds": 37.1,
            "status": "ok",
        },
        {
            "notebook": "04_tfjs_browser.ipynb",
            "peak_rss_mb": 2277.0,
            "peak_pss_mb": 1416.2,
            "seconds": 85.0,
            "status": "failed: 04_tfjs_browser.ipynb failed in cell 10: ValueError",
        },
    ],
}

COMPARE_RESULT = {
    "mode": "quick",
    "machine": {"cpu": "AMD EPYC", "cpus": 2},
    "results": [
        {
            "runtime": "keras",
            "note": None,
            "cold_start_s": 7.25,
            "latency_p50_ms": 12.36,
            "latency_p99_ms": 20.46,
            "throughput_rps_c8": None,
            "size_bytes": 4_260_000,
            "peak_memory_mib": 661.0,
            "accuracy": 0.775,
            "vs_keras": {"same_label": 1.0, "max_abs_diff": 0.0},
        },
        {
            "runtime": "tflite-int8",
            "note": None,
            "cold_start_s": 0.72,
            "latency_p50_ms": 0.14,
            "latency_p99_ms": 2.48,
            "throughput_rps_c8": None,
            "size_bytes": 320_000,
            "peak_memory_mib": 49.0,
            "accuracy": 0.775,
            "vs_keras": {"same_label": 1.0, "max_abs_diff": 0.015},
        },
    ],
}


def test_the_comparison_table_and_its_highlights_come_from_the_comparison(tmp_path):
    _write(tmp_path, "compare/results.json", COMPARE_RESULT)
    filled, measured = slides.fill("<!-- figure: compare -->\n<!-- figure: compare-highlights -->", tmp_path)
    assert measured == {"compare": True, "compare-highlights": True}
    assert "| keras | 7.25 | 12.36 | 20.46 | — | 4.26 | 661 | 0.775 | 100.0% | 0.0e+00 |" in filled
    assert "- Per review, tflite-int8 is fastest (0.140 ms at p50) and keras slowest (12.4 ms)" in filled
    assert filled.count("Quick run (small counts, as in CI): run `make bench` for the real figures.") == 2
    assert "2 CPUs (AMD EPYC) · from `build/compare/results.json`" in filled


def test_each_chapter_result_becomes_its_table(tmp_path):
    _write(tmp_path, "flask/benchmark.json", FLASK_RESULT)
    _write(tmp_path, "tf-serving/benchmark.json", SERVING_RESULT)
    _write(tmp_path, "tflite/benchmark.json", TFLITE_RESULT)
    _write(tmp_path, "memory/memory.json", MEMORY_RESULT)
    markers = ("flask", "tf-serving", "tflite", "memory")
    filled, measured = slides.fill("\n".join(f"<!-- figure: {m} -->" for m in markers), tmp_path)
    assert measured == dict.fromkeys(markers, True)
    assert "| production | 8 | 988 | 7.9 ms | 21.3 ms | 0 | 611 MiB |" in filled
    assert "by concurrency — 8: 24.0×, 32: n/a; in-process ceiling 1500 calls/s" in filled
    assert "| 1 | 3.77 ms | 2.64 ms | 1.43× |" in filled
    assert "served by the DEVELOPMENT server (a Python stand-in, NOT TensorFlow Serving)" in filled
    assert "| int8 | 330 kB | 25.7% | 0.806 | 98.1% |" in filled
    assert "ai_edge_litert 9.9 (XNNPACK, 1 thread); 1000 test reviews" in filled
    assert "| notebook | peak RSS | peak PSS | run time | RSS under 1.5 GB? | ran |" in filled
    assert "| 01_train.ipynb | 815 MB | 773 MB | 37 s | yes | ok |" in filled
    assert "| 04_tfjs_browser.ipynb | 2277 MB | 1416 MB | 85 s | **no** | **failed** |" in filled


def test_a_result_in_another_format_is_a_one_line_error(tmp_path):
    _write(tmp_path, "tfjs/benchmark.json", {"something": "else"})
    with pytest.raises(
        NowWhatError, match=r"build/tfjs/benchmark.json does not hold .* run `make bench` again"
    ):
        slides.fill("<!-- figure: tfjs -->", tmp_path)
    (tmp_path / "tfjs" / "benchmark.json").write_text("{not json")
    with pytest.raises(NowWhatError, match="does not hold what the 'tfjs' figure reads"):
        slides.fill("<!-- figure: tfjs -->", tmp_path)


def test_an_unknown_figure_is_a_one_line_error(tmp_path):
    with pytest.raises(NowWhatError, match="unknown figure 'speed'"):
        slides.fill("<!-- figure: speed -->", tmp_path)


def test_a_pipe_in_a_cell_cannot_split_a_table_row():
    from nowwhat.tables import markdown

    assert markdown(["runtime", "p50"], [["a|b", 1]]) == "| runtime | p50 |\n|---|---|\n| a\\|b | 1 |"
    assert markdown(["runtime", "p50"], [["a", 1]], right={1}).splitlines()[1] == "|---|---:|"


@pytest.fixture(scope="module")
def deck(tmp_path_factory):
    """The deck built once (HTML and PDF) from a private build folder with made-up results."""
    build = tmp_path_factory.mktemp("build")
    _write(build, "tfjs/benchmark.json", TFJS_RESULT)
    _write(build, "model/manifest.json", MODEL_RESULT)
    (build / "compare").mkdir()
    Image.new("RGB", (640, 320), "steelblue").save(build / "compare" / "latency_cold_start.png")
    out = tmp_path_factory.mktemp("slides") / "deck"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NOWWHAT_BUILD", str(build))
        manifest = slides.build(out, pdf=True)
    return out, manifest


def test_the_deck_builds_to_html_and_pdf_with_its_images(deck):
    out, manifest = deck
    assert manifest["outputs"] == ["deck.html", "deck.md", "deck.pdf"]
    assert (out / "deck.pdf").read_bytes()[:5] == b"%PDF-"
    assert (out / "deck.pdf").stat().st_size > 50_000
    built = (out / "deck.md").read_text()
    assert "<!-- figure:" not in built and "../images/" not in built
    for link in slides.images(built):
        assert (out / link).is_file(), link
    assert manifest["figures"]["tfjs"] == "measured"
    assert manifest["figures"]["compare"] == "not measured"
    assert manifest["figures"]["compare-latency"] == "measured"  # the benchmark's own plot, copied in
    assert (out / "measured" / "compare" / "latency_cold_start.png").read_bytes()[:4] == b"\x89PNG"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def served(deck):
    """The built deck over HTTP on 127.0.0.1 (a free port), as a browser would get it from a web server."""
    out, _ = deck
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(out)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/deck.html"
    finally:
        server.shutdown()
        server.server_close()


def test_the_rendered_deck_in_headless_chromium(deck, served, tmp_path):
    from nowwhat.tfjs.browser import Traffic, chromium

    _, manifest = deck
    traffic = Traffic()
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 720})
        context.on("request", lambda request: traffic.requests.append(request.url))
        page = context.new_page()
        page.on("pageerror", lambda error: traffic.console_errors.append(str(error)))
        page.goto(served)
        sections = page.locator("section")
        assert sections.count() == manifest["slides"] >= 20
        titles = page.eval_on_selector_all(
            "section", "all => all.map(s => s.querySelector('h1, h2').textContent)"
        )
        tree = titles.index("Four questions choose the runtime")
        page.goto(f"{served}#{tree + 1}")  # Marp's slide numbers start at 1
        diagram = sections.nth(tree).locator("img")
        diagram.wait_for(timeout=10_000)
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=diagram.element_handle())
        box = diagram.bounding_box()
        assert box["width"] > 600 and box["height"] > 300, box  # the diagram fills the slide
        page.screenshot(path=str(tmp_path / "decision-tree-slide.png"))
        tfjs = titles.index("TensorFlow.js: measured in headless Chromium")
        page.goto(f"{served}#{tfjs + 1}")
        figure = sections.nth(tfjs).locator("table")
        figure.wait_for(timeout=10_000)
        assert "4321" in figure.inner_text()  # the result file's number, rendered as a table
        flask = titles.index("Flask: naive vs production")
        page.goto(f"{served}#{flask + 1}")
        assert "Not measured on this machine yet" in sections.nth(flask).inner_text()
        context.close()
    assert (tmp_path / "decision-tree-slide.png").stat().st_size > 20_000
    assert traffic.console_errors == []
    assert traffic.off_machine == [], "the deck must not load anything from outside"
