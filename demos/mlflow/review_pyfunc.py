"""The Keras model as an MLflow pyfunc, "models from code": MLflow stores this file, not a pickle, and
runs it wherever the model is served. The type hints are the contract: MLflow checks every request
against `list[str]` before predict() sees it, so numbers, nulls and nested lists get a 400 with a clear
message. predict() checks what a type cannot say (how many reviews, how long, encodable text) and raises
MlflowException: any other exception would reach the client with its stack trace."""

from __future__ import annotations

import mlflow
from mlflow.exceptions import MlflowException

MAX_REVIEWS = 64
MAX_TEXT_CHARS = 10_000


def checked(reviews: list[str]) -> list[bytes]:
    """The reviews as UTF-8, or an MlflowException (a 400) that says what is wrong."""
    if not 1 <= len(reviews) <= MAX_REVIEWS:
        raise MlflowException.invalid_parameter_value(
            f"'inputs' holds {len(reviews)} reviews; send between 1 and {MAX_REVIEWS}"
        )
    encoded = []
    for number, review in enumerate(reviews):
        if len(review) > MAX_TEXT_CHARS:
            raise MlflowException.invalid_parameter_value(
                f"review {number} has {len(review):,} characters; the limit is {MAX_TEXT_CHARS:,}"
            )
        try:
            encoded.append(review.encode("utf-8"))
        except UnicodeEncodeError:
            raise MlflowException.invalid_parameter_value(
                f"review {number} is not valid Unicode text (a lone surrogate?)"
            ) from None
    return encoded


class SavedModelClassifier(mlflow.pyfunc.PythonModel):
    """Text in, probabilities out, in the label order of the model's metadata."""

    def load_context(self, context):
        import tensorflow as tf

        self.tf = tf
        loaded = tf.saved_model.load(context.artifacts["saved_model"])
        self.serve = loaded.signatures["serving_default"]

    def predict(self, context, model_input: list[str], params: dict | None = None) -> list[list[float]]:
        texts = self.tf.constant(checked(model_input), self.tf.string)
        return self.serve(text=texts)["probabilities"].numpy().tolist()


mlflow.models.set_model(SavedModelClassifier())
