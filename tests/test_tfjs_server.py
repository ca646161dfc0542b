"""The demo's server: same-origin files only, 127.0.0.1 only, and clear answers to bad requests."""

import http.client
import os
import signal
import subprocess
from urllib.parse import urlsplit

import pytest

from nowwhat.tfjs.browser import DEMO_DIR, DemoServer
from nowwhat.tfjs.convert import ensure_converted

pytestmark = pytest.mark.slow  # converts the model and starts Node servers


@pytest.fixture(scope="module")
def server(exports):
    ensure_converted()
    with DemoServer() as running:
        yield urlsplit(running.url)


def request(server, path, method="GET"):
    connection = http.client.HTTPConnection(server.hostname, server.port, timeout=10)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_listens_on_loopback_only(server):
    assert server.hostname == "127.0.0.1"


@pytest.mark.parametrize(
    ("path", "type_"),
    [
        ("/", "text/html"),
        ("/app.js", "text/javascript"),
        ("/tokenizer.js", "text/javascript"),
        ("/vendor/tfjs/tf.fesm.min.js", "text/javascript"),
        ("/model/float32/model.json", "application/json"),
        ("/model/float16/group1-shard1of1.bin", "application/octet-stream"),
        ("/model/tokenizer.json", "application/json"),
    ],
)
def test_serves_the_page_tfjs_and_the_model(server, path, type_):
    status, headers, body = request(server, path)
    assert status == 200 and headers["Content-Type"].startswith(type_)
    assert int(headers["Content-Length"]) == len(body) > 0


@pytest.mark.parametrize(
    "path",
    [
        "/../package.json",
        "/%2e%2e/server.mjs",
        "/model/../../export/manifest.json",
        "/model/%2e%2e%2f%2e%2e%2fexport%2fmanifest.json",
        "/vendor/tfjs/../../../../package-lock.json",
        "/server.mjs",
        "/node_modules/@tensorflow/tfjs/package.json",
        "/.gitignore",
        "/model/",
        "/index.html%00.js",
        "/" + "a" * 5000,
    ],
)
def test_nothing_outside_the_three_folders_is_served(server, path):
    status, _, body = request(server, path)
    assert status == 404, body
    assert b"not found" in body


def test_malformed_url_encoding_is_a_400(server):
    status, _, body = request(server, "/%E0%A4%A")
    assert status == 400 and body == b"malformed URL\n"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_only_get_and_head(server, method):
    assert request(server, "/", method)[0] == 405


def test_head_has_headers_and_no_body(server):
    status, headers, body = request(server, "/model/float32/model.json", "HEAD")
    assert status == 200 and int(headers["Content-Length"]) > 0 and body == b""


@pytest.mark.parametrize(
    "args", [["--port", "-1"], ["--port", "70000"], ["--port", "http"], ["--port", ""], ["--bogus"]]
)
def test_bad_arguments_are_refused_in_one_line(args):
    result = subprocess.run(
        ["node", "server.mjs", *args], cwd=DEMO_DIR, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1


def test_missing_model_is_announced_and_the_page_still_served(tmp_path):
    env = {**os.environ, "MODEL_DIR": str(tmp_path)}
    process = subprocess.Popen(
        ["node", "server.mjs", "--port", "0"], cwd=DEMO_DIR, env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        assert "npm run build-model" in process.stderr.readline()
    finally:
        process.terminate()
        process.wait(10)
    with DemoServer(model_dir=tmp_path) as running:
        assert request(urlsplit(running.url), "/model/float32/model.json")[0] == 404
        assert request(urlsplit(running.url), "/")[0] == 200


def test_npm_start_is_the_one_run_command():
    process = subprocess.Popen(
        ["npm", "start", "--", "--port", "0"],
        cwd=DEMO_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        url = next(line for line in process.stdout if "TF.js demo at" in line).split()[3]
        status, _, body = request(urlsplit(url), "/")
        assert status == 200 and b"Is this review great?" in body
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(10)
