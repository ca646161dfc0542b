"""The responses both APIs share, built as the official protos (REST sends their JSON form)."""

from __future__ import annotations

from google.protobuf import json_format
from tensorflow_serving.apis import get_model_metadata_pb2, get_model_status_pb2, model_pb2, status_pb2

from .errors import invalid
from .models import Manager

SIGNATURE_DEF = "signature_def"
STATE = get_model_status_pb2.ModelVersionStatus.State
ERROR_CODE = status_pb2.StatusProto.DESCRIPTOR.fields_by_name["error_code"].enum_type.values_by_name


def model_spec(name: str, version: int, signature_name: str = "") -> model_pb2.ModelSpec:
    spec = model_pb2.ModelSpec(name=name, signature_name=signature_name)
    spec.version.value = version
    return spec


def status_response(manager: Manager, name: str, version=None, label=None):
    response = get_model_status_pb2.GetModelStatusResponse()
    for number, state in manager.status(name, version, label):
        entry = response.model_version_status.add(version=number, state=STATE.Value(state.state))
        entry.status.error_code = ERROR_CODE[state.error_code].number
        entry.status.error_message = state.error_message
    return response


def metadata_response(manager: Manager, name: str, version=None, label=None, fields=(SIGNATURE_DEF,)):
    """GetModelMetadata: only the `signature_def` field exists, as in TF Serving."""
    if not fields:
        raise invalid("GetModelMetadataRequest must specify at least one metadata_field")
    for requested in fields:
        if requested != SIGNATURE_DEF:
            raise invalid(f"Metadata field {requested} is not supported")
    servable = manager.resolve(name, version, label)
    signatures = get_model_metadata_pb2.SignatureDefMap()
    for key, signature in servable.signature_defs.items():
        signatures.signature_def[key].CopyFrom(signature)
    response = get_model_metadata_pb2.GetModelMetadataResponse()
    response.model_spec.CopyFrom(model_spec(name, servable.version))
    response.metadata[SIGNATURE_DEF].Pack(signatures)
    return response


def _to_dict(message) -> dict:
    return json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


def status_json(response) -> dict:
    return json_format.MessageToDict(response, always_print_fields_with_no_presence=True)


def metadata_json(response) -> dict:
    """The REST form TF Serving writes (http_rest_api_util.cc): model_spec + unpacked signature_def."""
    signatures = get_model_metadata_pb2.SignatureDefMap()
    response.metadata[SIGNATURE_DEF].Unpack(signatures)
    return {"model_spec": _to_dict(response.model_spec), "metadata": {SIGNATURE_DEF: _to_dict(signatures)}}
