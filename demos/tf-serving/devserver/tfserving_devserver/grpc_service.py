"""TF Serving's gRPC API on the official protos: PredictionService.Predict and GetModelMetadata,
ModelService.GetModelStatus (stubs and messages from the `tensorflow-serving-api` package)."""

from __future__ import annotations

import logging
import time
from concurrent import futures

import grpc
import tensorflow as tf
from tensorflow_serving.apis import (
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from . import SERVED_BY
from .errors import ServingError, invalid
from .metrics import Metrics
from .models import Manager
from .service import metadata_response, model_spec, status_response
from .tensors import array_from_proto

log = logging.getLogger("devserver")
MAX_MESSAGE_BYTES = 64 * 1024 * 1024


def _spec_args(spec) -> tuple:
    """(name, version or None, label or None) from a request's ModelSpec."""
    if not spec.name:
        raise invalid("ModelSpec has no name specified.")
    choice = spec.WhichOneof("version_choice")
    return spec.name, spec.version.value if choice == "version" else None, spec.version_label or None


def _handle(metrics: Metrics, api: str, context, work):
    """Run one RPC: name ourselves, turn ServingError into the status code, never leak a traceback."""
    start = time.perf_counter()
    context.send_initial_metadata((("x-served-by", SERVED_BY),))
    code = grpc.StatusCode.OK
    try:
        return work()
    except ServingError as exc:
        code = exc.code
        context.abort(exc.code, exc.message)
    except Exception:
        log.exception("unexpected error in %s", api)
        code = grpc.StatusCode.INTERNAL
        context.abort(code, f"internal error in the development server during {api}")
    finally:
        metrics.observe(f"grpc_{api}", code.name, time.perf_counter() - start)


class PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
    def __init__(self, manager: Manager, metrics: Metrics):
        self.manager, self.metrics = manager, metrics

    def Predict(self, request, context):
        return _handle(self.metrics, "predict", context, lambda: self._predict(request))

    def _predict(self, request):
        name, version, label = _spec_args(request.model_spec)
        servable = self.manager.resolve(name, version, label)
        signature_name = request.model_spec.signature_name or "serving_default"
        if signature_name not in servable.module.signatures:
            raise ServingError(
                grpc.StatusCode.FAILED_PRECONDITION, f'Serving signature key "{signature_name}" not found.'
            )
        fn = servable.module.signatures[signature_name]
        specs = servable.input_specs(fn)
        _check_input_names(dict(request.inputs), specs)
        arrays = {
            alias: array_from_proto(proto, specs[alias], alias, position)
            for position, (alias, proto) in enumerate(sorted(request.inputs.items()))
        }
        outputs = servable.run(fn, arrays, _output_filter(request.output_filter, fn))
        response = predict_pb2.PredictResponse(model_spec=model_spec(name, servable.version, signature_name))
        for alias, value in outputs.items():
            response.outputs[alias].CopyFrom(tf.make_tensor_proto(value))
        return response

    def GetModelMetadata(self, request, context):
        def work():
            name, version, label = _spec_args(request.model_spec)
            return metadata_response(self.manager, name, version, label, list(request.metadata_field))

        return _handle(self.metrics, "metadata", context, work)

    def Classify(self, request, context):
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "the development server implements Predict only")

    def Regress(self, request, context):
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "the development server implements Predict only")

    def MultiInference(self, request, context):
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "the development server implements Predict only")


def _check_input_names(given: dict, specs: dict) -> None:
    """TF Serving's predict_util.cc checks: input count first, then each alias (same messages)."""
    if len(given) != len(specs):
        extra, missing = sorted(set(given) - set(specs)), sorted(set(specs) - set(given))
        sent, wanted = ",".join(sorted(given)), ",".join(sorted(specs))
        raise invalid(
            f"input size does not match signature: {len(given)}!={len(specs)} len({{{sent}}}) "
            f"!= len({{{wanted}}}). Sent extra: {{{','.join(extra)}}}. "
            f"Missing but required: {{{','.join(missing)}}}."
        )
    for alias in sorted(given):
        if alias not in specs:
            raise invalid(
                f"input tensor alias not found in signature: {alias}. Inputs expected to be in the set "
                f"{{{','.join(sorted(specs))}}}."
            )


def _output_filter(requested, fn) -> list[str]:
    outputs = sorted(fn.structured_outputs)
    seen = []
    for alias in requested:
        if alias not in outputs:
            raise invalid(
                f"output tensor alias not found in signature: {alias} Outputs expected to be in the set "
                f"{{{','.join(outputs)}}}."
            )
        if alias in seen:
            raise invalid(f"duplicate output tensor alias: {alias}")
        seen.append(alias)
    return seen


class ModelService(model_service_pb2_grpc.ModelServiceServicer):
    def __init__(self, manager: Manager, metrics: Metrics):
        self.manager, self.metrics = manager, metrics

    def GetModelStatus(self, request, context):
        def work():
            if not request.HasField("model_spec"):
                raise invalid("Missing ModelSpec")
            return status_response(self.manager, *_spec_args(request.model_spec))

        return _handle(self.metrics, "status", context, work)

    def HandleReloadConfigRequest(self, request, context):
        context.abort(
            grpc.StatusCode.UNIMPLEMENTED,
            "the development server reloads its config file instead (--model_config_file_poll_wait_seconds)",
        )


def create_server(manager: Manager, metrics: Metrics, address: str, threads: int = 8) -> grpc.Server:
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=threads, thread_name_prefix="grpc"),
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ],
    )
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
        PredictionService(manager, metrics), server
    )
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(ModelService(manager, metrics), server)
    if server.add_insecure_port(address) == 0:
        raise OSError(f"cannot listen for gRPC on {address}")
    return server
