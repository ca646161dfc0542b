"""The decision guide: four yes/no questions → the chapter (runtime) to start from, and why.

The questions come from the 2019 talk this workshop grew out of, read as chapter 00 reads them:
*distribute predictions to clients* means the predictions are computed on the clients (browser or
device), *central deployment* means one place to update, log and monitor the model. The rules, in
priority order:

1. Privacy: the text must not leave the user's device → run on the client. If predictions also go to
   many users, or you want one place to update the model, ship it to the browser (the page fetches the
   current model from your web server); otherwise put it on the device with LiteRT.
2. A GPU, with no privacy constraint → a model server on a GPU machine (TF Serving): the model is too
   heavy for the clients, so the predictions cannot be computed there even if you wanted to distribute.
3. Distribute predictions to clients → the browser (TF.js). With central deployment as well, the web
   server that hosts the model file is the one place to update it: central and distributed at once.
4. Central deployment alone → a server: Flask for a small API with your own logic around the model
   (TF Serving when you need versions behind labels and gRPC: chapter 03).
5. Neither → LiteRT: a standalone device or process.

A reason claims only what this repository shows or measures; request batching, which the real TF
Serving offers, is named as a feature and marked as not measured here (the development server that
stands in for TF Serving does not batch).
"""

from __future__ import annotations

from dataclasses import dataclass

QUESTIONS = {
    "central": "Central deployment? One place to update, log and monitor the model.",
    "gpu": "Need a GPU? The model is too heavy for the clients' CPUs.",
    "privacy": "Privacy concerns? The user's text must never leave their device.",
    "distribute": "Distribute predictions to clients? Many users, offline use, no server cost per call.",
}

CHAPTERS = {
    "flask": ("02_flask", "demos/flask", "Flask + gunicorn"),
    "tf-serving": ("03_tf_serving", "demos/tf-serving", "TensorFlow Serving"),
    "tfjs": ("04_tfjs_browser", "demos/tfjs", "TensorFlow.js in the browser"),
    "tflite": ("05_tflite_edge", "demos/tflite", "LiteRT on the edge"),
}


@dataclass(frozen=True)
class Recommendation:
    runtime: str
    reason: str

    @property
    def notebook(self) -> str:
        return CHAPTERS[self.runtime][0]

    @property
    def demo(self) -> str:
        return CHAPTERS[self.runtime][1]

    @property
    def title(self) -> str:
        return CHAPTERS[self.runtime][2]


def recommend(central: bool, gpu: bool, privacy: bool, distribute: bool) -> Recommendation:
    """Apply the rules in the module docstring."""
    if privacy:
        gpu_note = " Client GPUs still help: TF.js's webgl backend, LiteRT's GPU delegate." if gpu else ""
        if distribute or central:
            return Recommendation(
                "tfjs",
                "the text stays in the browser, and every user loads the current "
                "model from your web server: one place to update, no inference server." + gpu_note,
            )
        return Recommendation(
            "tflite",
            "the text stays on the device and nothing needs a network; "
            "LiteRT runs the quantized model on phones and boards." + gpu_note,
        )
    if gpu:
        too_heavy = "the model is too heavy for the clients, so it cannot run there; " if distribute else ""
        return Recommendation(
            "tf-serving",
            too_heavy + "a model server on a GPU machine answers every client over REST or gRPC, "
            "and the clients need no GPU. (The real TF Serving can also batch concurrent requests onto "
            "the accelerator: a feature, not measured here.)",
        )
    if distribute:
        if central:
            return Recommendation(
                "tfjs",
                "each user's browser computes the predictions (no server cost per call), and the web "
                "server that hosts the model file is the one place to update it for every user.",
            )
        return Recommendation(
            "tfjs", "no server to run: each user's browser downloads the model once and predicts locally."
        )
    if central:
        return Recommendation(
            "flask",
            "a small central API with your own validation and logic around the model; the simplest "
            "server to build, run and debug. Need versions behind labels or gRPC: TF Serving (chapter 03).",
        )
    return Recommendation("tflite", "a standalone device or process: a small file, no server, no network.")


#: Which measured rows back each recommendation (see nowwhat.compare.bench).
EVIDENCE_ROWS = {
    "flask": ("flask-production", "flask-naive"),
    "tf-serving": ("tf-serving-grpc", "tf-serving-rest"),
    "tfjs": ("tfjs-cpu", "tfjs-webgl"),
    "tflite": ("tflite-dynamic", "tflite-float32"),  # dynamic range: the level chapter 05 advises
}


def evidence(runtime: str, report: dict | None) -> list[str]:
    """One line of measured figures per relevant runtime, from a `nowwhat.compare.bench` report."""
    if not report:
        return ["no measurements yet: run `make bench` (or `python -m nowwhat compare bench --quick`)"]
    rows = {row["runtime"]: row for row in report["results"]}
    lines = []
    for name in EVIDENCE_ROWS[runtime]:
        if row := rows.get(name):
            throughput, vs = row.get("throughput_rps_c8"), row.get("vs_keras")
            lines.append(
                f"{name}: p50 {row['latency_p50_ms']:.2f} ms per review, "
                f"cold start {row['cold_start_s']:.2f} s, "
                f"{row['size_bytes'] / 1e6:.2f} MB, accuracy {row['accuracy']:.3f}"
                + (f", max |Δp| vs Keras {vs['max_abs_diff']:.1e}" if vs else "")
                + (f", {throughput:,.0f} req/s at concurrency 8" if throughput else "")
                + (f" ({row['note']})" if row.get("note") else "")
            )
    return [*lines, f"measured on {report['machine']['cpus']} CPUs, {report['mode']} run"]
