"""Chapter 06's exercise check, on a small registry made here in seconds (a stand-in pyfunc labelled
"keras" as version 1, a small scikit-learn pipeline as version 2): not yet for the starter and a removed
alias, right for the solution file run as the notebook runs it."""

from __future__ import annotations

import mlflow
import pytest

from nowwhat.exercises.model_registry import check_champion
from nowwhat.model_registry import registry
from nowwhat.workshop.notebooks import NOTEBOOKS


class Constant(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input: list[str]) -> list[list[float]]:
        return [[0.5, 0.5] for _ in model_input]


@pytest.fixture
def client(tmp_path, monkeypatch):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    monkeypatch.setenv("NOWWHAT_BUILD", str(tmp_path / "build"))
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    folder = registry.registry_dir()
    mlflow.set_tracking_uri(folder.resolve().as_uri())
    with mlflow.start_run():
        mlflow.pyfunc.log_model(name="model", python_model=Constant(),
                                metadata={"framework": "keras", "labels": ["great", "other"]},
                                registered_model_name=registry.NAME)  # fmt: skip
    mlflow.MlflowClient().set_registered_model_alias(registry.NAME, "champion", "1")
    pipeline = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(["good", "bad"], ["great", "other"])
    registry.demo.log_sklearn(pipeline, ["great", "other"], folder, "challenger")
    return mlflow.MlflowClient()


def test_the_starter_is_not_yet_done_and_names_the_version_to_pick(client):
    verdict = check_champion(client)
    assert not verdict
    assert verdict.message.startswith("`champion` names version 1, the Keras model")
    assert "the scikit-learn version (2 here)" in verdict.message


def test_the_solution_moves_the_alias_and_the_check_says_so(client):
    exec((NOTEBOOKS / "solutions" / "06_mlflow_onnx_mlserver.py").read_text(),
         {"client": client, "registry": registry})  # fmt: skip
    verdict = check_champion(client)
    assert verdict and verdict.message.startswith("`champion` names version 2, the scikit-learn pipeline")


def test_a_removed_alias_is_not_yet_with_the_call_that_restores_it(client):
    client.delete_registered_model_alias(registry.NAME, "champion")
    verdict = check_champion(client)
    assert not verdict and "set_registered_model_alias('reviews', 'champion', version)" in verdict.message
