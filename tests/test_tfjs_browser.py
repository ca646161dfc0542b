"""End to end in Debian's headless Chromium: the page predicts as you type, equals Keras on cpu and webgl,
stays on 127.0.0.1, logs no errors, and says plainly what is wrong when something is."""

import contextlib
import urllib.request

import numpy as np
import psutil
import pytest

from nowwhat.metrics import agreement
from nowwhat.tfjs.browser import (
    BACKENDS,
    DemoServer,
    chromium,
    demo_url,
    open_demo,
    predict,
    state,
    type_review,
)
from nowwhat.tfjs.convert import ensure_converted, tfjs_dir

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def server(exports):
    ensure_converted()
    with DemoServer() as running:
        yield running.url


@pytest.fixture(scope="module")
def browser():
    with chromium() as running:
        yield running


@pytest.fixture
def demo(browser, server):
    """The page on the cpu backend; after the test, no request may have left and no error been logged."""
    page, traffic = open_demo(browser, server)
    yield page
    page.context.close()
    assert traffic.off_machine == []
    assert traffic.console_errors == []


def shortest(vectors, label_id):
    reviews = [
        v
        for v in vectors
        if v["name"].startswith("test_review_") and np.argmax(v["probabilities"]) == label_id
    ]
    return min(reviews, key=lambda v: len(v["text"]))


def shown(page) -> dict:
    """What a person sees: the predicted label and the percentage next to each bar."""
    percents = page.locator(".percent").all_inner_texts()
    return {"label": page.locator("#label").inner_text(), "percents": percents}


def test_typing_a_review_updates_the_prediction_to_what_keras_says(demo, test_vectors):
    for label_id in (0, 1):
        case = shortest(test_vectors, label_id)
        type_review(demo, case["text"])
        expected = [f"{100 * p:.1f} %" for p in case["probabilities"]]
        assert shown(demo) == {"label": ("great", "other")[label_id], "percents": expected}, case["name"]
        assert demo.locator("#status").inner_text() == "Prediction updated."


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("weights", ["float32", "float16"])
def test_page_probabilities_equal_keras(browser, server, test_vectors, backend, weights):
    """Every shared vector (50 test reviews + the hard cases) through the page's tokenizer and TF.js."""
    page, traffic = open_demo(browser, server, backend, weights)
    info = state(page)
    scored = [v for v in test_vectors if v["ids"]]
    no_words = [v for v in test_vectors if not v["ids"]]
    got = predict(page, [v["text"] for v in scored + no_words])
    page.context.close()
    assert info["state"] == "ready" and info["backend"] == backend and info["weights"] == weights
    assert len([v for v in scored if v["name"].startswith("test_review_")]) >= 50
    parity = agreement([v["probabilities"] for v in scored], got[: len(scored)])
    tolerance = 1e-4 if weights == "float32" else 1e-3  # float16 weights: measured 6e-5
    assert parity["max_abs_diff"] < tolerance and parity["same_label"] == 1.0, parity
    assert {v["name"] for v in no_words} == {"empty", "whitespace_only"}
    assert got[len(scored) :] == [None, None]  # no tokens: Keras gives its prior, the page declines
    assert traffic.off_machine == [] and traffic.console_errors == []


def test_predictions_in_chunks_are_the_same_rows_in_order(demo, test_vectors):
    texts = [v["text"] for v in test_vectors]
    whole, chunked = predict(demo, texts, chunk=len(texts)), predict(demo, texts, chunk=7)
    assert len(chunked) == len(texts) and [r is None for r in chunked] == [r is None for r in whole]
    rows = [(a, b) for a, b in zip(whole, chunked, strict=True) if a is not None]
    assert np.allclose([a for a, _ in rows], [b for _, b in rows], atol=1e-6)


def _demo_servers() -> int:
    count = 0
    for process in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):  # exited meanwhile, or a zombie another test left
            count += "server.mjs" in " ".join(process.cmdline())
    return count


def test_a_running_demo_server_is_reused_else_one_is_started_and_stopped(server):
    before = _demo_servers()
    with demo_url(server) as url:
        assert url == server and _demo_servers() == before
    with demo_url() as url:
        assert url != server and _demo_servers() == before + 1
        with urllib.request.urlopen(url, timeout=10) as page:
            assert page.status == 200
    assert _demo_servers() == before


def test_screenshot_of_a_prediction(demo):
    type_review(demo, "Stale, overpriced and the bag arrived torn. Would not buy again.")
    path = tfjs_dir() / "screenshot-test.png"
    demo.screenshot(path=str(path), full_page=True)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
    assert shown(demo)["label"] == "other"


def test_page_reports_size_load_time_and_inference_time(demo):
    info = state(demo)
    assert info["modelBytes"] == ensure_converted()["bytes"]["float32"]  # model.json + weight shard
    assert info["readyMs"] > 0
    assert demo.locator("#model-size").inner_text().endswith("KiB (float32 weights)")
    type_review(demo, "great coffee")
    assert demo.locator("#inference-time").inner_text().endswith("ms (tokenize + predict)")


def test_keyboard_only_use_with_labelled_controls(demo):
    for name in ("Your review", "Backend", "Weights"):
        assert demo.get_by_label(name, exact=True).count() == 1, name
    demo.keyboard.press("Tab")
    assert demo.evaluate("document.activeElement.id") == "review"
    demo.keyboard.type("Delicious and fresh, my kids love it. Will buy again!")
    demo.wait_for_function("reviewDemo.shownFor === document.getElementById('review').value")
    assert shown(demo)["label"] == "great"
    demo.keyboard.press("Tab")
    assert demo.evaluate("document.activeElement.id") == "backend"
    with demo.expect_navigation():
        demo.keyboard.press("ArrowDown")  # cpu → webgl reloads the page with ?backend=webgl
    demo.wait_for_function("window.reviewDemo && reviewDemo.state === 'ready'", timeout=60_000)
    assert state(demo)["backend"] == "webgl" and "backend=webgl" in demo.url


def test_empty_and_wordless_text_get_a_message_not_numbers(demo):
    type_review(demo, "?!... ---")
    assert demo.locator("#status").inner_text().startswith("No words in this text")
    assert shown(demo) == {"label": "—", "percents": ["—", "—"]}
    type_review(demo, "")
    assert demo.locator("#status").inner_text() == "Type a review to see a prediction."


def test_hostile_and_huge_input_is_just_text(demo):
    type_review(
        demo, '<img src="http://127.0.0.2/x" onerror="window.pwned=1"> <script>window.pwned=2</script>'
    )
    assert demo.evaluate("window.pwned") is None and demo.locator("#bars img").count() == 0
    huge = "the coffee was good but the price was not " * 20_000  # 860 kB
    demo.get_by_label("Your review").fill(huge)
    demo.wait_for_function("reviewDemo.shownFor && reviewDemo.shownFor.length > 800000", timeout=30_000)
    assert shown(demo)["label"] in ("great", "other")


def test_missing_model_is_shown_with_the_fix(browser, tmp_path):
    with DemoServer(model_dir=tmp_path) as empty:
        page, _ = open_demo(browser, empty.url)
        alert = page.get_by_role("alert")
        assert state(page)["state"] == "failed"
        assert alert.is_visible() and "npm run build-model" in alert.inner_text()
        assert page.get_by_label("Your review").is_disabled()
        page.context.close()


def test_unknown_backend_in_the_url_is_explained(browser, server):
    page, _ = open_demo(browser, server, backend="cuda")
    assert 'unknown backend "cuda"' in page.get_by_role("alert").inner_text()
    page.context.close()


def test_the_request_recorder_would_catch_a_request_leaving(browser, server):
    """The zero-requests check can fail: a request to another host is recorded (answered locally here)."""
    page, traffic = open_demo(browser, server)
    page.context.route("http://elsewhere.test/**", lambda route: route.fulfill(status=204))
    page.evaluate("fetch('http://elsewhere.test/track', {mode: 'no-cors'}).then(r => r.type)")
    assert traffic.off_machine == ["http://elsewhere.test/track"]
    page.context.close()
