"""Traffic for the API under watch: reviews sent one request at a time from a few client threads, each
answer timed on the client's side, and a share of bad requests. Bounded in count, loopback only."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

#: Requests the API must refuse (422/400/415), so the refusal counters have something to count.
BAD_REQUESTS = (
    {"json": {"text": ""}},
    {"json": {"text": "!!!"}},
    {"json": {"review": "the wrong field"}},
    {"data": b"not json", "headers": {"Content-Type": "application/json"}},
)


def send(url: str, texts: list[str], clients: int = 2, bad_every: int = 0) -> list[dict]:
    """POST each text to /v1/predict (and, if `bad_every`, one bad request after every that many);
    [{"review", "status", "seconds", "server_seconds", "label"}] in the order sent ("review": the text's
    index in `texts`, None for a bad request; "seconds": as this client timed it; "server_seconds": as the
    API timed it, from its Server-Timing header; "label": the answer's, None when refused)."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError("traffic goes to a server on this machine's loopback only")
    jobs = []
    for i, text in enumerate(texts):
        jobs.append((i, {"json": {"text": text}}))
        if bad_every and (i + 1) % bad_every == 0:
            jobs.append((None, BAD_REQUESTS[((i + 1) // bad_every) % len(BAD_REQUESTS)]))
    local = threading.local()  # one connection (a requests.Session) per client thread

    def one(job: tuple[int | None, dict]) -> dict:
        review, request = job
        if not hasattr(local, "session"):
            local.session = requests.Session()
        start = time.perf_counter()
        answer = local.session.post(url + "/v1/predict", timeout=30, **request)
        seconds = time.perf_counter() - start
        label = answer.json().get("label") if answer.ok else None
        timing = answer.headers.get("Server-Timing", "")
        server = float(timing.partition("dur=")[2]) / 1000 if "dur=" in timing else None
        return {"review": review, "status": answer.status_code, "seconds": seconds, "server_seconds": server,
                "label": label}  # fmt: skip

    with ThreadPoolExecutor(clients) as pool:
        return list(pool.map(one, jobs))
