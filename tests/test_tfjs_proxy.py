"""On Binder or any remote Jupyter, the learner's browser reaches the TF.js demo only through the Jupyter
server's proxy (jupyter-server-proxy, `<base_url>proxy/<port>/`). A real `jupyter server` on 127.0.0.1,
with a token and Binder's kind of base URL, proxies the demo server; headless Chromium opens the page
there, types a review and sees the prediction, and every request goes through the proxy path."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import psutil
import pytest

from nowwhat.tfjs.browser import DemoServer, chromium, open_demo, page_url, state, type_review
from nowwhat.tfjs.convert import ensure_converted

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

@pytest.fixture(scope="module")
def demo(exports):
    ensure_converted()
    with DemoServer() as running:
        yield running.url


def test_behind_a_jupyter_server_the_page_url_is_the_servers_proxy_path(jupyter, monkeypatch):
    """What a kernel that server started sees: JPY_PARENT_PID is the server, listed in the runtime folder."""
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(jupyter["runtime"]))
    monkeypatch.delenv("JUPYTERHUB_SERVICE_PREFIX", raising=False)
    monkeypatch.setenv("JPY_PARENT_PID", str(jupyter["pid"]))
    assert page_url("http://127.0.0.1:41195/") == f"{jupyter['base_url']}proxy/41195/"
    monkeypatch.setenv("JPY_PARENT_PID", str(os.getpid()))  # papermill's kind of parent
    assert page_url("http://127.0.0.1:41195/") == "http://127.0.0.1:41195/"
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/hub-learner/")
    assert page_url("http://127.0.0.1:41195/") == "/user/hub-learner/proxy/41195/"


def test_a_kernel_the_server_starts_names_the_server_as_its_parent(jupyter):
    """The detection's premise, checked on a real kernel: jupyter_client puts the server's pid in
    JPY_PARENT_PID."""
    request = urllib.request.Request(
        f"{jupyter['url']}api/kernels",
        data=b"{}",
        method="POST",
        headers={"Authorization": f"token {jupyter['token']}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        kernel_id = json.load(response)["id"]
    try:
        server = psutil.Process(jupyter["pid"])
        deadline = time.monotonic() + 30
        kernels = []
        while not kernels and time.monotonic() < deadline:
            kernels = [p for p in server.children() if "ipykernel" in " ".join(p.cmdline())]
            time.sleep(0.2)
        assert kernels, "the server started no kernel process"
        assert kernels[0].environ().get("JPY_PARENT_PID") == str(jupyter["pid"])
    finally:
        delete = urllib.request.Request(
            f"{jupyter['url']}api/kernels/{kernel_id}",
            method="DELETE",
            headers={"Authorization": f"token {jupyter['token']}"},
        )
        urllib.request.urlopen(delete, timeout=30).close()


def test_the_page_loads_and_predicts_through_the_jupyter_proxy(jupyter, demo):
    port = urlsplit(demo).port
    proxied = f"{jupyter['url']}proxy/{port}/"
    with chromium() as browser:
        page, traffic = open_demo(browser, proxied, headers={"Authorization": f"token {jupyter['token']}"})
        assert state(page)["state"] == "ready", state(page)
        type_review(page, "Delicious and fresh, my kids love it. Will buy again!")
        assert page.locator("#label").inner_text() == "great"
        assert page.locator("#status").inner_text() == "Prediction updated."
        page.context.close()
    assert traffic.off_machine == [] and traffic.console_errors == []
    assert len(traffic.requests) >= 6  # page, css, app.js, tokenizer.js, tfjs, tokenizer.json, model …
    outside = [u for u in traffic.requests if not u.startswith(proxied)]
    assert outside == [], "the page asked for something outside the proxy path (an absolute URL?)"
    assert any(u.startswith(f"{proxied}model/float32/") for u in traffic.requests)
    assert any(u.startswith(f"{proxied}vendor/tfjs/") for u in traffic.requests)
