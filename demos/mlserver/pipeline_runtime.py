"""MLServer's own scikit-learn runtime (`mlserver_sklearn.SKLearnModel`) for a text pipeline saved with
joblib, with review_runtime.py's request checks in front.

The stock runtime needs no code at all, but it hands whatever arrives to the pipeline: numbers are
classified as if they were text, and an empty or null review answers 500 with the Python stack trace.
This subclass refuses those with a 400 that says what is wrong, and answers `predict_proba` unless the
request names its outputs (`predict` gives the labels).
"""

from __future__ import annotations

import os
from pathlib import Path

from mlserver.types import InferenceRequest, InferenceResponse, RequestOutput
from mlserver_sklearn import SKLearnModel
from review_runtime import review_texts


class CheckedPipeline(SKLearnModel):
    async def load(self) -> bool:
        """$PIPELINE, else pipeline.joblib where `mlserver start` runs. joblib runs code when it loads: serve
        only files you made."""
        self.settings.parameters.uri = os.environ.get("PIPELINE") or str(Path.cwd() / "pipeline.joblib")
        return await super().load()

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        review_texts(payload)  # a 400 unless every review is text, 1 to 100,000 characters
        payload.outputs = payload.outputs or [RequestOutput(name="predict_proba")]
        return await super().predict(payload)
