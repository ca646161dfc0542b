"""The configuration files TF Serving reads, parsed as the same text-format protocol buffers.

- model config (`--model_config_file`): the official `ModelServerConfig` message from the
  tensorflow-serving-api package, so a file that works here works with the real server and vice versa;
- batching parameters (`--batching_parameters_file`) and monitoring (`--monitoring_config_file`): their
  messages are not in the pip package, so the fields the demo uses are declared below with the field
  names, numbers and types of TF Serving's `session_bundle_config.proto` and `monitoring_config.proto`.
  Fields not declared here are skipped, not rejected (the real server knows more of them).
"""

from __future__ import annotations

import functools
from pathlib import Path

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format
from tensorflow_serving.config import model_server_config_pb2

from .errors import invalid

F = descriptor_pb2.FieldDescriptorProto

#: (message, [(field, number, type, label, type_name)]) in TF Serving's proto files.
_MESSAGES = {
    "BatchingParameters": [
        ("max_batch_size", 1, F.TYPE_MESSAGE, F.LABEL_OPTIONAL, ".google.protobuf.Int64Value"),
        ("batch_timeout_micros", 2, F.TYPE_MESSAGE, F.LABEL_OPTIONAL, ".google.protobuf.Int64Value"),
        ("max_enqueued_batches", 3, F.TYPE_MESSAGE, F.LABEL_OPTIONAL, ".google.protobuf.Int64Value"),
        ("num_batch_threads", 4, F.TYPE_MESSAGE, F.LABEL_OPTIONAL, ".google.protobuf.Int64Value"),
        ("thread_pool_name", 5, F.TYPE_MESSAGE, F.LABEL_OPTIONAL, ".google.protobuf.StringValue"),
        ("allowed_batch_sizes", 6, F.TYPE_INT64, F.LABEL_REPEATED, None),
        ("pad_variable_length_inputs", 7, F.TYPE_BOOL, F.LABEL_OPTIONAL, None),
    ],
    "PrometheusConfig": [
        ("enable", 1, F.TYPE_BOOL, F.LABEL_OPTIONAL, None),
        ("path", 2, F.TYPE_STRING, F.LABEL_OPTIONAL, None),
    ],
    "MonitoringConfig": [
        ("prometheus_config", 1, F.TYPE_MESSAGE, F.LABEL_OPTIONAL, ".devserver.PrometheusConfig"),
    ],
}


@functools.cache
def _message_classes() -> dict:
    from google.protobuf import wrappers_pb2

    pool = descriptor_pool.DescriptorPool()
    wrappers = descriptor_pb2.FileDescriptorProto()
    wrappers_pb2.DESCRIPTOR.CopyToProto(wrappers)
    pool.Add(wrappers)
    file = descriptor_pb2.FileDescriptorProto(
        name="devserver_config.proto", package="devserver", dependency=[wrappers.name], syntax="proto3"
    )
    for name, fields in _MESSAGES.items():
        message = file.message_type.add(name=name)
        for field, number, kind, label, type_name in fields:
            extra = {"type_name": type_name} if type_name else {}
            message.field.add(name=field, number=number, type=kind, label=label, **extra)
    pool.Add(file)
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"devserver.{name}"))
        for name in _MESSAGES
    }


def _parse(path: Path, message, allow_unknown: bool):
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise invalid(f"cannot read {path}: {exc.strerror}") from None
    try:
        return text_format.Parse(text, message, allow_unknown_field=allow_unknown)
    except text_format.ParseError as exc:
        raise invalid(f"{path} is not a valid {type(message).__name__} text proto: {exc}") from None


def model_server_config(path: Path) -> model_server_config_pb2.ModelServerConfig:
    return _parse(path, model_server_config_pb2.ModelServerConfig(), allow_unknown=False)


def batching_parameters(path: Path):
    return _parse(path, _message_classes()["BatchingParameters"](), allow_unknown=True)


def monitoring_config(path: Path):
    return _parse(path, _message_classes()["MonitoringConfig"](), allow_unknown=True)


def single_model_config(name: str, base_path: str) -> model_server_config_pb2.ModelServerConfig:
    """What `--model_name` + `--model_base_path` mean: one model, latest version only."""
    config = model_server_config_pb2.ModelServerConfig()
    config.model_config_list.config.add(name=name, base_path=base_path, model_platform="tensorflow")
    return config


def check_model_config(config) -> None:
    """The checks TF Serving's ServerCore makes before loading anything (same messages)."""
    names = set()
    for model in config.model_config_list.config:
        if model.name in names:
            raise invalid(f"Illegal to list model {model.name} multiple times in config list")
        names.add(model.name)
        if not Path(model.base_path).is_absolute():
            raise invalid(
                f"Expected model {model.name} to have an absolute path or URI; "
                f"got base_path()={model.base_path}"
            )
        if model.model_platform not in ("", "tensorflow"):
            raise invalid(f"Model {model.name} requests unsupported platform {model.model_platform}")
