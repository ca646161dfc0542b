"""Why the whole text model does not run in LiteRT here: the real errors, reproduced with the real tools.

1. Builtin ops only: the converter refuses. TextVectorization's string ops (StringLower,
   StaticRegexReplace, StringSplitV2, StringNGrams …) have no LiteRT kernel.
2. With SELECT_TF_OPS ("Flex": the model may call TensorFlow kernels) it still refuses StringNGrams, which
   is not even on Flex's list; `allow_custom_ops` lets it through as an unresolved custom op.
3. The file converts, but `ai_edge_litert` (and `tf.lite.Interpreter`) from pip do not include the Flex
   delegate, so the runtime refuses it: "Node number 2 (FlexStringLower) failed to prepare".

An app could link the Flex delegate (Android: the tensorflow-lite-select-tf-ops library, several MB per
CPU architecture) and register a StringNGrams kernel itself. Tokenizing in the client is smaller and runs
everywhere, which is why the bundle ships the core model with the tokenizer instead.
"""

from __future__ import annotations

import re
from pathlib import Path

from nowwhat.paths import serving_base
from nowwhat.tflite.convert import run_converter

_UNSUPPORTED = re.compile(r"'tf\.(\w+)' op is neither a custom op nor a flex op")


def text_model() -> Path:
    """The exported end-to-end SavedModel (raw text in), the one TF Serving and Flask run."""
    return serving_base() / "1"


def converter(select_tf_ops: bool, allow_custom_ops: bool = False):
    import tensorflow as tf

    conv = tf.lite.TFLiteConverter.from_saved_model(str(text_model()))
    if select_tf_ops:
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS, tf.lite.OpsSet.SELECT_TF_OPS]
    conv.allow_custom_ops = allow_custom_ops
    return conv


def unsupported_ops(select_tf_ops: bool) -> list[str]:
    """The TensorFlow ops the converter refuses (sorted); empty if the text model converts."""
    from tensorflow.lite.python.convert_phase import ConverterError

    try:
        run_converter(converter(select_tf_ops))
    except ConverterError as exc:
        return sorted(set(_UNSUPPORTED.findall(str(exc))))
    return []


def convert_with_select_ops(out: Path) -> int:
    """The text model with Flex ops and custom ops allowed: it converts. Returns the file size."""
    flatbuffer = run_converter(converter(select_tf_ops=True, allow_custom_ops=True))
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_bytes(flatbuffer)
    return len(flatbuffer)


#: Runs in a fresh Python, like a device: only ai_edge_litert is loaded. (In a process where the converter
#: has run, TensorFlow's own libraries are loaded too, and the error only appears at the first call.)
_RUN = """
import sys
import numpy as np
from ai_edge_litert.interpreter import Interpreter
interpreter = Interpreter(model_path=sys.argv[1])
try:
    interpreter.allocate_tensors()
    interpreter.get_signature_runner()(text=np.array([b"Great coffee"]))
except RuntimeError as error:
    sys.exit(str(error))
"""


def runtime_error(path: Path) -> str:
    """What ai_edge_litert says when asked to run the model; raises AssertionError if it runs after all."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", _RUN, str(path)], capture_output=True, text=True, timeout=120
    )
    if result.returncode == 0:
        raise AssertionError(f"{path} ran in ai_edge_litert: this runtime has the Flex delegate after all")
    return result.stderr.strip().splitlines()[-1]


def reproduce(out_dir: Path) -> dict:
    """All three steps; the converted Flex model is written to out_dir (never to the edge bundle)."""
    from nowwhat.tflite.convert import inspect

    path = Path(out_dir) / "text_model_select_tf_ops.tflite"
    size = convert_with_select_ops(path)
    return {
        "builtins_only_refuses": unsupported_ops(select_tf_ops=False),
        "select_tf_ops_refuses": unsupported_ops(select_tf_ops=True),
        "converted_with_custom_ops": {"path": str(path), "bytes": size},
        "non_builtin_operators": [
            op for op in inspect(path)["operators"] if op.startswith("Flex") or not op.isupper()
        ],
        "runtime_error": runtime_error(path),
    }
