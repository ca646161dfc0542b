"""Chapter 03's exercise: promote the canary by moving the `stable` label in the running server's config.

The check asks two witnesses: the config file the server re-reads (does `stable` name version 2?) and
the server itself over REST (does `stable` answer as version 2, in status, metadata and predictions?),
and it insists that the process answering is the one that was running before: no restart.
"""

from __future__ import annotations

import time
from pathlib import Path

import requests

from nowwhat.exercises import Verdict, not_yet, right

CANARY = 2
PROBE = ["Delicious coffee, I buy it every month.", "Stale and overpriced."]


def check_promoted(server, serving_pid: int, model: str = "reviews", timeout: float = 40.0) -> Verdict:
    """`server` is the demo's running Server (tfserving_demo.run.serve); `serving_pid` its process id
    noted before the edit. Waits up to `timeout` s for the server to re-read its config."""
    if server.process is None or server.process.poll() is not None:
        return not_yet("the server is not running: run the cell that starts it, then edit its config copy.")
    if server.process.pid != serving_pid:
        return _restarted()
    if server.model_config is None:
        return not_yet("this server was started elsewhere, so its config file is unknown here: start it "
                       "with the notebook's serve() cell.")
    labels = _labels(Path(server.model_config), model)
    if labels is None:
        return not_yet("the server's config copy no longer parses as a ModelServerConfig: undo the last "
                       "edit (a label is `key: \"stable\"` and `value: 2`, a bare number).")
    stable, canary = labels.get("stable"), labels.get("canary")
    if stable is None:
        return not_yet("the config has no `stable` label any more: keep it, and change its value to 2.")
    if stable == 1 and canary == 1:
        return not_yet("you moved `canary` to version 1; it is `stable` that moves: give stable the value 2 "
                       "(canary can stay at 2).")
    if stable == 1:
        return not_yet("`stable` still names version 1 in the server's config copy: change its value to 2 "
                       "and save the file.")
    if stable != CANARY:
        return not_yet(f"`stable` names version {stable}, but the canary is version {CANARY}: give it 2.")
    url = f"{server.rest_url}/v1/models/{model}"
    answered = _wait_for_stable(url, timeout)
    if answered != str(CANARY):
        return not_yet(f"the config says stable → 2, but after {timeout:.0f} s the server still answers "
                       f"stable with version {answered}: it re-reads its config only with "
                       "--model_config_file_poll_wait_seconds set; its log says what it did.")
    metadata = requests.get(f"{url}/labels/stable/metadata", timeout=30).json()["model_spec"]["version"]
    same = _predict(f"{url}/labels/stable") == _predict(f"{url}/versions/{CANARY}")
    if metadata != str(CANARY) or not same:
        return not_yet("the status says stable is version 2, but its metadata or predictions are not "
                       "version 2's: restart nothing, and look at the server's log.")
    if server.process.poll() is not None or server.process.pid != serving_pid:
        return _restarted()
    return right("`stable` now answers as version 2 (status, metadata and predictions), and the same "
                 "server process picked the change up without a restart.")


def _restarted() -> Verdict:
    return not_yet("this is not the process that was serving before (the server was restarted): the point "
                   "is to move the label in the running server; note its pid again and edit its config copy.")


def _labels(path: Path, model: str) -> dict[str, int] | None:
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    try:
        config = text_format.Parse(path.read_text(), model_server_config_pb2.ModelServerConfig())
    except (OSError, text_format.ParseError):
        return None
    models = [c for c in config.model_config_list.config if c.name == model]
    return dict(models[0].version_labels) if models else {}


def _wait_for_stable(url: str, timeout: float) -> str:
    """The version `stable` answers with, once it is the canary's or when `timeout` has passed."""
    deadline = time.monotonic() + timeout
    while True:
        status = requests.get(f"{url}/labels/stable", timeout=30).json()["model_version_status"]
        version = status[0]["version"]
        if version == str(CANARY) or time.monotonic() > deadline:
            return version
        time.sleep(0.5)


def _predict(path: str) -> list:
    response = requests.post(f"{path}:predict", json={"instances": PROBE}, timeout=30)
    return [row["probabilities"] for row in response.json()["predictions"]]
