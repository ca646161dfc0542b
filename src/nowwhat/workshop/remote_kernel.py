"""Run a notebook the way a learner's browser does: through a running Jupyter server's own API.

The server starts the kernel (`POST /api/sessions`, in the notebook's folder), the cells go over its
kernel websocket one by one (`execute_request` on the shell channel), and the session is deleted at the
end, which shuts the kernel down, as a learner on Binder is told to do before the next notebook. Used by
`make binder-check`, where the server runs inside the container and this process outside it.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from urllib.parse import quote

import nbformat
import requests
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from nowwhat.errors import NowWhatError


class JupyterServer:
    """A server at `url` (with its base URL, e.g. http://127.0.0.1:8888/user/learner/) and `token`."""

    def __init__(self, url: str, token: str):
        self.url, self.token = url.rstrip("/") + "/", token
        self.headers = {"Authorization": f"token {token}"}

    def api(self, method: str, path: str, check: bool = True, **kwargs) -> requests.Response:
        answer = requests.request(method, self.url + path, headers=self.headers, timeout=60, **kwargs)
        if check and not answer.ok:
            raise NowWhatError(f"the Jupyter server refused {method} {path}: {answer.status_code}")
        return answer

    def ready(self) -> bool:
        return requests.get(self.url + "api/status", headers=self.headers, timeout=5).ok


def run_notebook(
    server: JupyterServer,
    path: str,
    timeout: float = 1800,
    progress: Callable[[str], None] = print,
) -> dict:
    """Every code cell of the notebook at `path` (relative to the server's root, read through the server)
    → {"status": "ok" | "failed: …", "seconds", "cells"}. A cell's error ends the run."""
    return asyncio.run(_run(server, path, timeout, progress))


async def _run(server: JupyterServer, path: str, timeout: float, progress) -> dict:
    content = server.api("GET", f"api/contents/{quote(path)}").json()["content"]
    nb = nbformat.from_dict(content)
    cells = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    session = server.api(
        "POST", "api/sessions",
        json={"path": path, "type": "notebook", "name": path, "kernel": {"name": "python3"}},
    ).json()  # fmt: skip
    started, status = time.monotonic(), "ok"
    try:
        ws_url = server.url.replace("http", "ws", 1) + f"api/kernels/{session['kernel']['id']}/channels"
        socket = await websocket_connect(HTTPRequest(ws_url, headers=server.headers))
        try:
            for number, cell in enumerate(cells, 1):
                left = timeout - (time.monotonic() - started)
                error = await asyncio.wait_for(_execute(socket, cell.source), max(left, 1))
                progress(f"  cell {number}/{len(cells)} {'ok' if error is None else 'FAILED'}")
                if error is not None:
                    status = f"failed: cell {number}: {error}"
                    break
        finally:
            socket.close()
    except TimeoutError:
        status = f"failed: over {timeout:.0f} s"
    finally:
        close(server, session["id"])
    return {"status": status, "seconds": round(time.monotonic() - started, 1), "cells": len(cells)}


def close(server: JupyterServer, session_id: str, attempts: int = 10) -> None:
    """Delete the session (its kernel stops). A kernel being restarted after a crash refuses for a moment
    (500): ask again."""
    for _ in range(attempts):
        if server.api("DELETE", f"api/sessions/{session_id}", check=False).status_code in (204, 404):
            return
        time.sleep(1)
    raise NowWhatError(f"the Jupyter server would not close session {session_id}")


async def _execute(socket, source: str) -> str | None:
    """One cell: send it, wait for its reply and for the kernel to be idle again → None, or the error."""
    msg_id = uuid.uuid4().hex
    await socket.write_message(json.dumps({
        "header": {"msg_id": msg_id, "msg_type": "execute_request", "session": uuid.uuid4().hex,
                   "username": "binder-check", "version": "5.3", "date": ""},
        "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
        "content": {"code": source, "silent": False, "store_history": True, "user_expressions": {},
                    "allow_stdin": False, "stop_on_error": True},
    }))  # fmt: skip
    error, replied, idle = None, False, False
    while not (replied and idle):
        raw = await socket.read_message()
        if raw is None:
            return "the kernel's connection closed (the kernel died: out of memory?)"
        if isinstance(raw, bytes):
            continue  # a binary frame (buffers): nothing this check reads
        message = json.loads(raw)
        kind, content = message["msg_type"], message["content"]
        if kind == "status" and content["execution_state"] in ("restarting", "dead"):
            return f"the kernel died and the server says {content['execution_state']!r} (out of memory?)"
        if message.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        if kind == "execute_reply":
            replied = True
            if content["status"] != "ok":
                error = f"{content.get('ename')}: {content.get('evalue')}"
        elif kind == "status" and content["execution_state"] == "idle":
            idle = True
    return error
