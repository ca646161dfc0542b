"""A gRPC client for TF Serving on the official `tensorflow-serving-api` stubs.

Predict and GetModelMetadata (PredictionService), GetModelStatus (ModelService). `predict_async`
returns a future: it is only a measurement of anything once `.result()` has been awaited. Like the REST
client, predictions and metadata ask for the `stable` label unless given a version or `label=None`.
"""

from __future__ import annotations

import grpc
import tensorflow as tf
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from .explain import TFServingError
from .rest_client import STABLE


class GrpcClient:
    def __init__(self, target: str, model: str, timeout: float = 30.0):
        """`model`: the name config/models.config gives it (every request's model_spec.name)."""
        self.model, self.timeout = model, timeout
        self.channel = grpc.insecure_channel(target)
        self.predictions = prediction_service_pb2_grpc.PredictionServiceStub(self.channel)
        self.models = model_service_pb2_grpc.ModelServiceStub(self.channel)

    def _spec(self, message, version: int | None, label: str | None, signature_name: str | None = None):
        message.model_spec.name = self.model
        if version is not None:
            message.model_spec.version.value = version
        elif label:
            message.model_spec.version_label = label
        if signature_name:
            message.model_spec.signature_name = signature_name
        return message

    def _call(self, method, request):
        try:
            return method(request, timeout=self.timeout)
        except grpc.RpcError as exc:
            raise TFServingError(exc.code().name, exc.details() or "") from None

    def predict_request(self, texts: list[str], version=None, label=STABLE, signature_name=None):
        request = self._spec(predict_pb2.PredictRequest(), version, label, signature_name)
        request.inputs["text"].CopyFrom(tf.make_tensor_proto(texts, dtype=tf.string))
        return request

    def predict(self, texts: list[str], version=None, label=STABLE, signature_name=None) -> dict:
        """{output name: numpy array} for a batch of texts."""
        response = self._call(
            self.predictions.Predict, self.predict_request(texts, version, label, signature_name)
        )
        return decode(response)

    def predict_async(self, texts: list[str], version=None, label=STABLE):
        """A future; call `.result()` (or `decode(future.result())`) to wait for the answer."""
        return self.predictions.Predict.future(
            self.predict_request(texts, version, label), timeout=self.timeout
        )

    def metadata(self, version=None, label=STABLE) -> dict:
        request = self._spec(get_model_metadata_pb2.GetModelMetadataRequest(), version, label)
        request.metadata_field.append("signature_def")
        response = self._call(self.predictions.GetModelMetadata, request)
        signatures = get_model_metadata_pb2.SignatureDefMap()
        response.metadata["signature_def"].Unpack(signatures)
        return {"version": response.model_spec.version.value, "signature_def": signatures.signature_def}

    def status(self, version=None, label=None) -> list[tuple[int, str]]:
        """[(version, state name), ...]"""
        request = self._spec(get_model_status_pb2.GetModelStatusRequest(), version, label)
        response = self._call(self.models.GetModelStatus, request)
        state = get_model_status_pb2.ModelVersionStatus.State
        return [(s.version, state.Name(s.state)) for s in response.model_version_status]

    def close(self) -> None:
        self.channel.close()


def decode(response: predict_pb2.PredictResponse) -> dict:
    return {name: tf.make_ndarray(proto) for name, proto in response.outputs.items()}
