"""A REST client for TF Serving with `requests`: status, metadata, predict (row or columnar).

Works against the real server and the development server alike; `served_by()` tells which one answered.
Predictions and metadata ask for the `stable` label unless told otherwise: a request that names neither
a version nor a label gets the highest loaded version, which in a canary set-up is the canary
(`label=None` asks for exactly that).
"""

from __future__ import annotations

import requests

from .explain import TFServingError

#: The label clients ask for by default (a version number, when given, wins over the label).
STABLE = "stable"
#: The header the development server names itself in (TF Serving sends none).
SERVED_BY_HEADER = "X-Served-By"


class RestClient:
    def __init__(self, url: str, model: str, timeout: float = 30.0):
        """`model`: the name config/models.config gives it (the first part of every URL)."""
        self.url, self.model, self.timeout = url.rstrip("/"), model, timeout
        self.session = requests.Session()  # keep-alive: one TCP connection for many requests

    def _model_path(self, version: int | None = None, label: str | None = None) -> str:
        path = f"{self.url}/v1/models/{self.model}"
        if version is not None:
            path += f"/versions/{version}"
        elif label:
            path += f"/labels/{label}"
        return path

    def _send(self, method: str, url: str, **kwargs) -> requests.Response:
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.ConnectionError as exc:
            raise TFServingError("UNAVAILABLE", f"cannot connect to {self.url}: {exc}") from None
        if response.status_code != 200:
            try:
                message = response.json()["error"]
            except (ValueError, KeyError, TypeError):
                message = response.text[:300]
            raise TFServingError(str(response.status_code), message)
        return response

    def status(self, version: int | None = None, label: str | None = None) -> list[dict]:
        """[{'version': '2', 'state': 'AVAILABLE', 'status': {...}}, ...]"""
        return self._send("GET", self._model_path(version, label)).json()["model_version_status"]

    def metadata(self, version: int | None = None, label: str | None = STABLE) -> dict:
        return self._send("GET", self._model_path(version, label) + "/metadata").json()

    def predict(
        self,
        texts: list[str],
        version: int | None = None,
        label: str | None = STABLE,
        columnar: bool = False,
        signature_name: str | None = None,
    ):
        """Row format → list of {output: value} per text; columnar → {output: list of values}. With a
        single output TF Serving leaves its name out: a list of values per text, or one list."""
        body = {"inputs": {"text": texts}} if columnar else {"instances": [{"text": t} for t in texts]}
        if signature_name:
            body["signature_name"] = signature_name
        result = self.predict_json(body, version, label)
        return result["outputs"] if columnar else result["predictions"]

    def predict_json(self, body: dict, version: int | None = None, label: str | None = STABLE) -> dict:
        """POST any predict body (row or columnar, as TF Serving documents it) and return the JSON answer."""
        return self._send("POST", self._model_path(version, label) + ":predict", json=body).json()

    def probabilities(self, texts: list[str], **kwargs) -> list[list[float]]:
        outputs = self.predict(texts, columnar=True, **kwargs)
        # A signature with a single output comes back without its name (TF Serving's REST API docs).
        return outputs["probabilities"] if isinstance(outputs, dict) else outputs

    def served_by(self) -> str:
        """Which server answered: the development server names itself in a header, TF Serving does not."""
        response = self._send("GET", self._model_path())
        return response.headers.get(SERVED_BY_HEADER) or "TensorFlow Serving (no development-server header)"

    def close(self) -> None:
        self.session.close()
