"""One in-process runtime, measured in a fresh process that the harness starts (arguments: RUNTIME TEXTS M).

A fresh process per measurement is the only honest way to get cold start (process start → first
prediction, imports and model loading included) and peak memory (this process's maximum resident set).
Prints one JSON object: cold start, M single-review latencies, probabilities for the reviews in the JSON
file TEXTS. The LiteRT and ONNX Runtime probes import only the demos' clients (no TensorFlow, no pandas),
as on a device.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import sys
import time

import psutil

IN_PROCESS = (
    "keras", "savedmodel", "tflite-float32", "tflite-float16", "tflite-dynamic", "tflite-int8", "onnx"
)  # fmt: skip
#: The serving model's version every server and the SavedModel probe is asked for by number. TF Serving also
#: loads the canary (version 2) next to it, and a request that names no version gets the highest one.
VERSION = 1


def load(runtime: str):
    """A function texts → probabilities (array [len(texts), labels]) for one runtime."""
    if runtime == "keras":
        from nowwhat.training import load_trained, predict

        model = load_trained()[0]
        return lambda texts: predict(model, texts)
    if runtime == "savedmodel":
        import tensorflow as tf

        from nowwhat.paths import serving_base

        signature = tf.saved_model.load(str(serving_base() / str(VERSION))).signatures["serving_default"]
        return lambda texts: signature(text=tf.constant(texts))["probabilities"].numpy()
    if runtime.startswith("tflite-"):
        from nowwhat.paths import build_dir
        from nowwhat.tflite.evaluate import client

        edge = client().EdgeClassifier(build_dir() / "tflite" / "model", runtime.removeprefix("tflite-"))
        return lambda texts: edge.predict_batches([edge.encode(t) for t in texts])
    if runtime == "onnx":
        from nowwhat.paths import build_dir, demo_script

        return demo_script("onnx", "classify").OnnxClassifier(build_dir() / "onnx" / "keras").predict
    raise SystemExit(f"error: unknown runtime {runtime!r}: choose one of {', '.join(IN_PROCESS)}")


def peak_rss_mib() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: the latter survives exec, so a child of
    a large parent would report the parent's size."""
    with contextlib.suppress(OSError), open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: best available


def keras_in_subprocess(texts: list[str]):
    """Keras probabilities for `texts`, computed in a child process so the caller never loads TensorFlow
    (a notebook kernel that drives Chromium stays about 650 MB smaller: Binder's memory)."""
    import subprocess
    import tempfile

    import numpy as np

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "texts.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(texts, f)
        out = subprocess.run(
            [sys.executable, "-m", "nowwhat.compare.probe", "keras", path, "0"],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        )
    return np.asarray(json.loads(out.stdout.strip().splitlines()[-1])["probabilities"])


def main(argv: list[str]) -> int:
    runtime, texts_file, requests = argv[0], argv[1], int(argv[2])
    born = psutil.Process().create_time()
    with open(texts_file, encoding="utf-8") as f:
        texts = json.load(f)
    predict = load(runtime)
    predict(texts[:1])
    cold_start = time.time() - born
    latencies = []
    for i in range(requests):
        start = time.perf_counter()
        predict(texts[i % len(texts) : i % len(texts) + 1])
        latencies.append((time.perf_counter() - start) * 1000)
    probabilities = [[float(p) for p in row] for row in predict(texts)]
    peak = peak_rss_mib()
    print(
        json.dumps(
            {
                "cold_start_s": cold_start,
                "latency_ms": latencies,
                "peak_memory_mib": peak,
                "probabilities": probabilities,
            }
        )
    )
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.exit(main(sys.argv[1:]))
