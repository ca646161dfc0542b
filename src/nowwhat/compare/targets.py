"""The 2019 talk's frameworks × targets table, for the workshop's two models: which target serves each one
*here, tested* (the cell names the test that serves it and checks its answers), which only a stand-in
serves here, and which is known from documentation only. tests/test_targets.py checks that every named
test exists, so a ✅ cannot outlive the test behind it."""

from __future__ import annotations

from dataclasses import dataclass

from nowwhat.tables import markdown

TESTED, STAND_IN, DOCUMENTED, NO_PATH = "✅", "🟡", "📄", "❌"
MEANINGS = {
    TESTED: "served and checked against the framework's own answers here, by the test named",
    STAND_IN: "the client and the model are tested here against a stand-in server, not the real one",
    DOCUMENTED: "known from the project's documentation, not run here",
    NO_PATH: "no practical path",
}
#: The marks in words, where emoji would not do (the deck: Marp would fetch them as images from a CDN).
WORDS = {TESTED: "tested", STAND_IN: "stand-in", DOCUMENTED: "docs", NO_PATH: "none"}


@dataclass(frozen=True)
class Cell:
    mark: str
    says: str
    #: `<file>.py::<test function>`, from the repository's root, for ✅ and 🟡 cells.
    test: str | None = None


TARGETS = (
    "Flask API", "TF Serving", "MLflow", "MLServer (V2)", "ONNX Runtime", "browser", "LiteRT (edge)",
    "KServe, Triton, cloud endpoints",
)  # fmt: skip

def tested(says: str, file: str, function: str, mark: str = TESTED) -> Cell:
    return Cell(mark, says, f"tests/{file}.py::{function}")


TABLE = {
    "TensorFlow / Keras": {
        "Flask API": tested(
            "chapter 02, the SavedModel behind gunicorn",
            "test_flask_server", "test_probabilities_equal_keras_on_the_test_reviews",
        ),
        "TF Serving": tested(
            "chapter 03: the real binary is not run here; a development server speaks its REST and gRPC API",
            "test_tf_serving_parity", "test_stable_equals_keras_over_rest_and_grpc", mark=STAND_IN,
        ),
        "MLflow": tested(
            "chapter 06, a pyfunc written as code, alias champion",
            "test_mlflow", "test_the_champion_answers_with_keras_probabilities_on_the_test_vectors",
        ),
        "MLServer (V2)": tested(
            "chapter 06, a runtime of its own on the ONNX bundle",
            "test_mlserver", "test_v2_answers_are_keras_on_the_test_vectors",
        ),
        "ONNX Runtime": tested(
            "chapter 06, the core model through tf2onnx, no TensorFlow",
            "test_onnx", "test_the_keras_bundle_gives_keras_probabilities_on_the_test_vectors",
        ),
        "browser": tested(
            "chapter 04, TF.js in headless Chromium",
            "test_tfjs_browser", "test_page_probabilities_equal_keras",
        ),
        "LiteRT (edge)": tested(
            "chapter 05, the edge client without TensorFlow",
            "test_tflite_parity", "test_test_vectors_match_keras_within_the_level_tolerance",
        ),
        "KServe, Triton, cloud endpoints": Cell(
            DOCUMENTED, "KServe and Triton load SavedModels (or ONNX) and speak V2; Vertex AI and SageMaker "
            "have TensorFlow containers",
        ),
    },
    "scikit-learn": {
        "Flask API": Cell(DOCUMENTED, "joblib.load in chapter 02's app factory; not built here"),
        "TF Serving": Cell(NO_PATH, "TF Serving loads TensorFlow SavedModels only"),
        "MLflow": tested(
            "chapter 06, the sklearn flavour (skops), alias challenger",
            "test_mlflow", "test_the_challenger_answers_with_scikit_learn_probabilities_on_every_test_review",
        ),
        "MLServer (V2)": tested(
            "chapter 06, MLServer's own sklearn runtime, checks in front",
            "test_mlserver",
            "test_the_sklearn_runtime_answers_with_scikit_learn_probabilities_on_every_test_review",
        ),
        "ONNX Runtime": tested(
            "chapter 06, the whole pipeline through skl2onnx, text in",
            "test_onnx", "test_the_sklearn_bundle_gives_scikit_learn_probabilities_on_every_test_review",
        ),
        "browser": Cell(DOCUMENTED, "the skl2onnx file in onnxruntime-web; not run here"),
        "LiteRT (edge)": Cell(NO_PATH, "no converter from scikit-learn to LiteRT"),
        "KServe, Triton, cloud endpoints": Cell(
            DOCUMENTED, "KServe serves it with its own server or MLServer; Vertex AI and SageMaker have "
            "scikit-learn containers",
        ),
    },
}  # fmt: skip


#: Not a framework: whether each target's metrics are scraped and read here (chapter 07).
MONITORED_ROW = "monitored (Prometheus)"
MONITORED = {
    "Flask API": tested(
        "chapter 07, /metrics scraped by a real Prometheus, counts equal to the requests sent",
        "test_monitoring", "test_prometheus_counts_every_request_by_status_and_label",
    ),
    "TF Serving": tested(
        "the real binary's :tensorflow:serving: metrics are not run here; the development server serves its "
        "own at config/monitoring.config's path",
        "test_tf_serving_devserver", "test_prometheus_metrics_at_the_configured_path", mark=STAND_IN,
    ),
    "MLflow": Cell(
        NO_PATH, "mlflow models serve answers /ping, /health, /version and /invocations: no metrics (its "
        "scoring server, read here); a proxy in front or the platform adds them",
    ),
    "MLServer (V2)": Cell(
        TESTED, "chapter 06 reads its batch-size histogram on the metrics port",
        "demos/mlserver/tests/test_serve.py::test_adaptive_batching_merges_concurrent_requests_only_where_configured",
    ),
    "ONNX Runtime": Cell(NO_PATH, "a library, not a server: the app around it exposes the metrics"),
    "browser": Cell(NO_PATH, "runs in the user's browser: no server to scrape; the page would report home"),
    "LiteRT (edge)": Cell(NO_PATH, "runs on the device: no server to scrape; the app would report home"),
    "KServe, Triton, cloud endpoints": Cell(
        DOCUMENTED, "KServe and Triton expose Prometheus metrics; cloud endpoints have their own monitoring",
    ),
}  # fmt: skip


def cells() -> list[tuple[str, str, Cell]]:
    rows = {**TABLE, MONITORED_ROW: MONITORED}
    return [(framework, target, row[target]) for framework, row in rows.items() for target in TARGETS]


def table(evidence: bool = False, marks: dict | None = None) -> str:
    """The marks (or `marks[mark]`, e.g. WORDS) as a markdown table; with `evidence`, each followed by
    what backs it."""
    shown = marks or {}
    rows = [
        [f"**{framework}**",
         *(shown.get(cell.mark, cell.mark) + (f" {cell.says}" if evidence else "") for cell in row.values())]
        for framework, row in {**TABLE, MONITORED_ROW: MONITORED}.items()
    ]  # fmt: skip
    return markdown(["", *TARGETS], rows)


def legend(marks: dict | None = None) -> str:
    """"✅ served … · 🟡 …", or with `marks` "tested: served … · stand-in: …"."""
    shown, after = marks or {}, ": " if marks else " "
    return " · ".join(f"{shown.get(mark, mark)}{after}{meaning}" for mark, meaning in MEANINGS.items())


def served_here(framework: str) -> list[str]:
    """The targets that serve `framework` here, tested against the real server."""
    return [target for target, cell in TABLE[framework].items() if cell.mark == TESTED]
