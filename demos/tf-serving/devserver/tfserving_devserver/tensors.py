"""Tensors in and out, checked against a signature with TF Serving's rules and messages.

REST: the row (`instances`) and columnar (`inputs`) JSON formats, `{"b64": ...}` for binary strings
(TF Serving's `util/json_tensor.cc`). gRPC: TensorProto in and out (`servables/tensorflow/predict_util.cc`).
"""

from __future__ import annotations

import base64
import binascii
import json
import math

import grpc
import numpy as np
import tensorflow as tf

from .errors import ServingError, invalid

#: Refuse tensors whose declared shape would need more elements than this (a hostile TensorProto can
#: declare a shape of 10^12 with one value; TensorFlow would try to allocate it).
MAX_ELEMENTS = 50_000_000
FLOAT32_MAX = float(np.finfo(np.float32).max)


def dtype_name(dtype: tf.DType) -> str:
    """TensorFlow's DataTypeString: 'float' for float32, 'double' for float64, else the dtype name."""
    return {"float32": "float", "float64": "double"}.get(dtype.name, dtype.name)


def _show(value) -> str:
    return json.dumps(value, ensure_ascii=False)[:200]


def _json_type(value) -> str:
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "True" if value else "False"
    return {dict: "Object", list: "Array", str: "String"}.get(type(value), "Number")


def _is_b64(value) -> bool:
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get("b64"), str)


def _leaf(value, dtype: tf.DType):
    """One JSON scalar as a value of `dtype`, or TF Serving's type error."""
    if dtype == tf.string:
        if isinstance(value, str):
            try:
                return value.encode()
            except UnicodeEncodeError:  # a lone UTF-16 surrogate escaped as \ud800 in the JSON
                raise invalid("JSON Parse error: The surrogate pair in string is invalid.") from None
        if isinstance(value, dict):
            if not _is_b64(value):
                raise invalid(f"JSON Value: {_show(value)} not formatted correctly for base64 data")
            try:
                return base64.b64decode(value["b64"], validate=True)
            except (binascii.Error, ValueError):
                raise invalid("Unable to base64 decode") from None
    elif dtype == tf.bool:
        if isinstance(value, bool):
            return value
    elif dtype.is_integer:
        if isinstance(value, int) and not isinstance(value, bool) and dtype.min <= value <= dtype.max:
            return value
    elif dtype.is_floating:
        if isinstance(value, int | float) and not isinstance(value, bool):
            if dtype == tf.float32 and math.isfinite(value) and abs(value) > FLOAT32_MAX:
                raise invalid(
                    f"Cannot convert JSON value: {_show(value)} to float without loss of precision."
                )
            return value
    else:
        raise ServingError(
            grpc.StatusCode.UNIMPLEMENTED,
            f"Conversion of JSON Value: {_show(value)} to type: {dtype_name(dtype)}",
        )
    raise invalid(
        f"JSON Value: {_show(value)} Type: {_json_type(value)} is not of expected type: {dtype_name(dtype)}"
    )


def json_to_array(value, dtype: tf.DType) -> np.ndarray:
    """A (nested) JSON list as a dense array: the shape comes from the first element at each level."""
    shape = []
    probe = value
    while isinstance(probe, list):
        shape.append(len(probe))
        if not probe:
            break
        probe = probe[0]
    flat = []

    def walk(item, level):
        if isinstance(item, list):
            if level >= len(shape):
                raise invalid(f"Encountered list at unexpected level: {level} expected < {len(shape)}")
            if len(item) != shape[level]:
                raise invalid(
                    f"Encountered list at unexpected size: {len(item)} at level: {level} "
                    f"expected size: {shape[level]}"
                )
            for element in item:
                walk(element, level + 1)
        else:
            if level != len(shape):
                raise invalid(
                    f"JSON Value: {_show(item)} found at incorrect level: {level + 1} in the JSON DOM. "
                    f"Expected at level: {len(shape)}"
                )
            flat.append(_leaf(item, dtype))

    walk(value, 0)
    return np.array(flat, dtype=object if dtype == tf.string else dtype.as_numpy_dtype).reshape(shape)


def parse_json_body(body: bytes):
    """The request body as a JSON object, or TF Serving's parse error (NaN and Infinity are allowed)."""
    if not body:
        raise invalid("JSON Parse error: The document is empty")
    try:
        doc = json.loads(body)
    except json.JSONDecodeError as exc:
        raise invalid(f"JSON Parse error: {exc.msg} at offset: {exc.pos}") from None
    except UnicodeDecodeError:
        raise invalid("JSON Parse error: Invalid encoding in string.") from None
    except RecursionError:
        raise invalid("JSON Parse error: The document is nested too deeply.") from None
    if not isinstance(doc, dict):
        raise invalid(f"JSON Value: {_show(doc)} Is not object")
    return doc


def signature_name_of(doc: dict) -> str:
    name = doc.get("signature_name", "")
    if not isinstance(name, str):
        raise invalid(
            f"JSON Value: {_show(doc)} not formatted correctly. 'signature_name' key must be a string value."
        )
    return name


def inputs_from_json(doc: dict, specs: dict[str, tf.TensorSpec]) -> tuple[dict[str, np.ndarray], str]:
    """Named input arrays and the request format ('row' or 'columnar') from a predict request."""
    has_instances, has_inputs = "instances" in doc, "inputs" in doc
    if has_instances and has_inputs:
        raise invalid(
            f"JSON Value: {_show(doc)} Not formatted correctly expecting only one of 'inputs' or "
            "'instances' keys to exist "
        )
    if has_instances:
        return _rows(doc, specs), "row"
    if has_inputs:
        return _columns(doc["inputs"], specs), "columnar"
    raise invalid("Missing 'inputs' or 'instances' key")


def _rows(doc: dict, specs) -> dict[str, np.ndarray]:
    instances = doc["instances"]
    if not isinstance(instances, list):
        raise invalid(f"JSON Value: {_show(doc)} Excepting 'instances' to be an list/array")
    if not instances:
        raise invalid(f"JSON Value: {_show(doc)} No values in 'instances' array")
    objects = isinstance(instances[0], dict) and not _is_b64(instances[0])
    if not objects:
        if len(specs) > 1:
            raise invalid(
                "instances is a plain list, but expecting list of objects as multiple input tensors "
                "required as per tensorinfo_map"
            )
        ((name, spec),) = specs.items()
        if any(isinstance(item, dict) and not _is_b64(item) for item in instances):
            raise invalid("Expecting value/list but got object at item 0 of input list")
        return {name: json_to_array(instances, spec.dtype)}
    names = set(specs)
    for i, item in enumerate(instances):
        if not isinstance(item, dict) or _is_b64(item):
            raise invalid(f"Expecting object but got list at item {i} of input list")
        if set(item) - names:
            unknown = sorted(set(item) - names)[0]
            raise invalid(
                f"Failed to process element: {i} key: {unknown} of 'instances' list. Error: "
                f"INVALID_ARGUMENT: JSON object: does not have named input: {unknown}"
            )
        if set(item) != names:
            raise invalid(
                f"Failed to process element: {i} of 'instances' list. JSON object: {_show(item)} keys "
                f"must be equal to: {','.join(sorted(names))}"
            )
    return {
        name: json_to_array([item[name] for item in instances], spec.dtype) for name, spec in specs.items()
    }


def _columns(value, specs) -> dict[str, np.ndarray]:
    if not isinstance(value, dict) or _is_b64(value):
        if len(specs) > 1:
            raise invalid(
                "inputs is a plain value/list, but expecting an object as multiple input tensors "
                "required as per tensorinfo_map"
            )
        ((name, spec),) = specs.items()
        return {name: json_to_array(value, spec.dtype)}
    arrays = {}
    for name, spec in specs.items():
        if name not in value:
            raise invalid(f"Missing named input: {name} in 'inputs' object.")
        arrays[name] = json_to_array(value[name], spec.dtype)
    return arrays


def _jsonable(value, binary: bool):
    if isinstance(value, list):
        return [_jsonable(v, binary) for v in value]
    if isinstance(value, bytes):
        if not binary:
            try:
                return value.decode()
            except UnicodeDecodeError:
                pass
        return {"b64": base64.b64encode(value).decode()}
    return value


def outputs_to_json(outputs: dict[str, np.ndarray], request_format: str) -> dict:
    """`{"predictions": ...}` for row requests, `{"outputs": ...}` for columnar ones; names ending in
    `_bytes` (and strings that are not UTF-8) come back as `{"b64": ...}`."""
    values = {name: _jsonable(arr.tolist(), name.endswith("_bytes")) for name, arr in outputs.items()}
    if request_format == "columnar":
        return {"outputs": next(iter(values.values())) if len(values) == 1 else values}
    if len(values) == 1:
        return {"predictions": next(iter(values.values()))}
    sizes = {name: arr.shape[0] if arr.ndim else None for name, arr in outputs.items()}
    if len(set(sizes.values())) != 1 or None in sizes.values():
        raise invalid(f"Output tensors have different batch sizes {sizes}: use the columnar format")
    count = next(iter(sizes.values()))
    return {"predictions": [{name: v[i] for name, v in values.items()} for i in range(count)]}


def array_from_proto(proto, spec: tf.TensorSpec, alias: str, position: int) -> np.ndarray:
    """A gRPC input TensorProto as an array of the signature's dtype, refusing hostile shapes."""
    dims = [d.size for d in proto.tensor_shape.dim]
    if any(d < 0 for d in dims) or math.prod(dims) > MAX_ELEMENTS:
        raise invalid(f"tensor parsing error: {alias}")
    if proto.dtype != spec.dtype.as_datatype_enum:
        try:
            given = dtype_name(tf.dtypes.as_dtype(proto.dtype))
        except TypeError:
            given = "an invalid type"
        raise invalid(f"Expects arg[{position}] to be {dtype_name(spec.dtype)} but {given} is provided")
    try:
        return tf.make_ndarray(proto)
    except Exception:  # whatever a malformed proto makes TensorFlow raise, it is the client's input
        raise invalid(f"tensor parsing error: {alias}") from None


def check_shapes(arrays: dict[str, np.ndarray], specs: dict[str, tf.TensorSpec]) -> None:
    for name, arr in arrays.items():
        if not specs[name].shape.is_compatible_with(arr.shape):
            raise invalid(
                f"input '{name}' has shape {list(arr.shape)}, the signature expects "
                f"{specs[name].shape.as_list()} (-1 or None: any size)"
            )
