"""Drive the TF.js demo in headless Chromium: serve it from 127.0.0.1, open it, ask it for predictions.

Used by the browser tests, notebook 04 and the benchmark. Chromium is Debian's (`/usr/bin/chromium`,
installed by `make setup-tfjs`); Playwright never downloads a browser of its own here. The flags keep
Chromium from calling home, and every request the page makes is recorded, so a test can prove that
nothing left 127.0.0.1.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import re
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from nowwhat import processes
from nowwhat.errors import NowWhatError, reports_errors
from nowwhat.paths import REPO_ROOT

DEMO_DIR = REPO_ROOT / "demos" / "tfjs"
CHROMIUM = os.environ.get("NOWWHAT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Fewer processes, for Binder's 2 GB (measured on the demo page, cpu then webgl: peak RSS of the
    # browser's processes 1,089 → 919 MB): no zygote processes, the GPU (SwiftShader) thread inside the
    # browser process, one renderer process shared by all pages. `--single-process` would go further but
    # breaks Playwright's browser contexts.
    "--no-zygote",
    "--in-process-gpu",
    "--renderer-process-limit=1",
]
BACKENDS = ("cpu", "webgl")
LOCAL_HOSTS = {"127.0.0.1"}


class DemoServer:
    """`node server.mjs --port 0` in its own process group; stopped on exit even if a cell fails."""

    def __init__(self, model_dir: Path | None = None, folder: Path = DEMO_DIR):
        """`model_dir`: the model folder to serve (default: the workshop's converted model); `folder`: the
        demo's (a copy of it, in the tests)."""
        self.model_dir, self.folder = model_dir, Path(folder)
        self.url: str | None = None
        self._process: subprocess.Popen | None = None

    def start(self, timeout: float = 15) -> DemoServer:
        if not (self.folder / "node_modules" / "@tensorflow" / "tfjs").exists():
            raise NowWhatError(f"TensorFlow.js is not installed in {self.folder}: run `make setup-tfjs`")
        from nowwhat.tfjs.convert import model_dir

        env = {**os.environ, "MODEL_DIR": str(self.model_dir or model_dir())}
        self._log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (outlives this call; closed in stop)
        self._process = processes.start(["node", "server.mjs", "--port", "0"], self.folder, env, self._log)
        atexit.register(self.stop)
        self.url = self._wait_for_url(timeout)
        return self

    def _wait_for_url(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._log.seek(0)
            output = self._log.read()
            if found := re.search(r"http://127\.0\.0\.1:\d+/", output):
                return found.group(0)
            if self._process.poll() is not None:
                self.stop()
                raise NowWhatError(f"the demo server stopped at start: {output.strip()}")
            time.sleep(0.05)
        self.stop()
        raise NowWhatError(f"the demo server did not start within {timeout} s")

    def stop(self) -> None:
        if self._process:
            processes.stop(self._process, 5, whole_group=True)
            self._log.close()
        atexit.unregister(self.stop)

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


@dataclass
class Traffic:
    """What a browser context did: every request URL, console errors, uncaught page errors."""

    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    @property
    def off_machine(self) -> list[str]:
        """Requests to anything but 127.0.0.1 (data: URLs stay in the page and are not requests)."""
        local = LOCAL_HOSTS
        return [u for u in self.requests if not u.startswith("data:") and urlsplit(u).hostname not in local]


def jupyter_base_url() -> str | None:
    """The base URL of the Jupyter server this kernel runs under (`/` locally, `/user/<name>/` on Binder),
    or None outside one (papermill, plain Python, an editor that starts kernels itself).

    A kernel started by a Jupyter server has the server's process id in JPY_PARENT_PID (jupyter_client
    sets it), and every server lists itself in Jupyter's runtime folder. Failing that, JupyterHub and
    Binder set JUPYTERHUB_SERVICE_PREFIX for the server and its kernels.
    """
    if parent := os.environ.get("JPY_PARENT_PID"):
        from jupyter_server.serverapp import list_running_servers

        for server in list_running_servers():
            if str(server.get("pid")) == parent:
                return server["base_url"]
    return os.environ.get("JUPYTERHUB_SERVICE_PREFIX")


def page_url(url: str) -> str:
    """Where the learner's browser finds the demo served at `url` (on 127.0.0.1 next to the kernel).

    Behind a Jupyter server (Binder, JupyterHub, any remote Jupyter) 127.0.0.1 in the learner's browser
    is the learner's own machine, so the page goes through the server's proxy instead
    (jupyter-server-proxy: `<base_url>proxy/<port>/`, authenticated by the Jupyter session). The demo uses
    relative URLs only, so it works under that prefix. Outside a Jupyter server, `url` itself.
    """
    base = jupyter_base_url()
    if base is None:
        return url
    return f"{base.rstrip('/')}/proxy/{urlsplit(url).port}/"


@contextlib.contextmanager
def demo_url(url: str | None = None):
    """The address of the demo: `url` when a server is already running (a notebook's), else a server's
    started here and stopped on exit (each server is a Node.js process: one is enough)."""
    if url:
        yield url
        return
    with DemoServer() as server:
        yield server.url


@contextlib.contextmanager
def chromium():
    """A headless Debian Chromium driven by Playwright (sync API: call from a thread without a loop)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise NowWhatError(f"Chromium is not installed at {CHROMIUM}: run `make setup-tfjs`")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def open_demo(browser, url: str, backend: str = "cpu", weights: str = "float32", timeout_ms: int = 60_000,
              headers: dict | None = None):
    """A new page on the demo with the given runtime, waited until it is ready or failed → (page, traffic).
    `headers` go with every request (a Jupyter token, when the page is reached through Jupyter's proxy)."""
    traffic = Traffic()
    context = browser.new_context(
        viewport={"width": 900, "height": 760}, service_workers="block", extra_http_headers=headers
    )
    context.on("request", lambda request: traffic.requests.append(request.url))
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and traffic.console_errors.append(m.text))
    page.on("pageerror", lambda error: traffic.console_errors.append(f"uncaught: {error}"))
    page.goto(f"{url}?{urlencode({'backend': backend, 'weights': weights})}")
    page.wait_for_function("window.reviewDemo && window.reviewDemo.state !== 'loading'", timeout=timeout_ms)
    return page, traffic


def state(page) -> dict:
    """The page's own account: state, error, backend, model bytes, milliseconds to ready."""
    return page.evaluate("({state: reviewDemo.state, error: reviewDemo.error, ...reviewDemo.info})")


def predict(page, texts: list[str], chunk: int = 100) -> list[list[float]]:
    """Probabilities computed in the page (its tokenizer + TF.js), one row per text, `chunk` texts per
    call: one batch of 1,000 reviews makes 38 MB tensors ([1000, 600, 16] float32) that the WebGL backend
    keeps in its texture pool (the browser's memory grew by ~180 MB that way)."""
    run = "texts => window.reviewDemo.predict(texts)"
    return [row for i in range(0, len(texts), chunk) for row in page.evaluate(run, texts[i : i + chunk])]


def off_event_loop(fn):
    """Run in a worker thread: Playwright's sync API refuses a thread with a running asyncio loop,
    which is where Jupyter runs notebook cells."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(fn, *args, **kwargs).result()

    return wrapper


@off_event_loop
def parity(
    vectors: list[dict],
    backends=BACKENDS,
    weights: str = "float32",
    screenshot: Path | None = None,
    url: str | None = None,
):
    """Browser vs Keras on the shared test vectors, per backend: the check notebook 04 shows (on the demo
    server at `url`, or on one started for the check).

    Returns {backend: {n, same_label, max_abs_diff, no_words_no_prediction, off_machine, console_errors}};
    texts without a single token (Keras: the model's prior) must get no prediction (null) in the page.
    """
    from nowwhat.metrics import agreement

    scored = [v for v in vectors if v["ids"]]  # text without tokens: the page declines to predict
    empty = [v for v in vectors if not v["ids"]]
    results = {}
    with demo_url(url) as base, chromium() as browser:
        for backend in backends:
            page, traffic = open_demo(browser, base, backend, weights)
            info = state(page)
            if info["state"] != "ready":
                raise NowWhatError(f"the demo did not start on {backend}: {info.get('error')}")
            got = predict(page, [v["text"] for v in scored + empty])
            results[backend] = {
                "backend_used": info["backend"],
                "n": len(scored),
                **agreement([v["probabilities"] for v in scored], got[: len(scored)]),
                "no_words_no_prediction": all(row is None for row in got[len(scored) :]),
                "off_machine": traffic.off_machine,
                "console_errors": traffic.console_errors,
            }
            if screenshot and backend == backends[0]:
                type_review(page, "Stale, overpriced and the bag arrived torn. Would not buy again.")
                page.screenshot(path=str(screenshot), full_page=True)
            page.context.close()
    return results


def type_review(page, text: str, timeout_ms: int = 10_000) -> None:
    """Type like a person (key by key) and wait until the debounced prediction has been shown."""
    box = page.get_by_label("Your review")
    box.fill("")
    box.press_sequentially(text)
    page.wait_for_function(
        "text => reviewDemo.shownFor === text && document.getElementById('review').value === text",
        arg=text,
        timeout=timeout_ms,
    )


@reports_errors
def main(argv: list[str] | None = None) -> int:
    """`python -m nowwhat tfjs parity`: the headless parity check on the shared vectors, as JSON."""
    import argparse
    import json

    argparse.ArgumentParser(prog="python -m nowwhat tfjs parity", description=main.__doc__).parse_args(argv)
    from nowwhat.paths import tokenizer_dir
    from nowwhat.tfjs.convert import ensure_converted

    ensure_converted()
    vectors = json.loads((tokenizer_dir() / "test_vectors.json").read_text())
    print(json.dumps(parity(vectors), indent=2))
    return 0
