"""Chapter 08's exercise check: not yet for the starter, right for the solution, one sentence for wrong
answers (and never a measured figure in it)."""

import copy

from nowwhat.exercises.choose import STARTER, check_choice
from nowwhat.workshop.notebooks import NOTEBOOKS

#: A report as `nowwhat.compare.bench` writes it, trimmed to the rows the checks read.
REPORT = {
    "results": [
        {
            "runtime": "flask-production",
            "cold_start_s": 3.7,
            "latency_p50_ms": 1.64,
            "latency_p99_ms": 3.31,
            "throughput_rps_c8": 781.2,
            "size_bytes": 3_010_000,
            "peak_memory_mib": 1327.0,
            "accuracy": 0.812,
            "vs_keras": {"same_label": 1.0, "max_abs_diff": 0.0},
        },
        {
            "runtime": "tfjs-cpu",
            "cold_start_s": 0.44,
            "latency_p50_ms": 2.4,
            "latency_p99_ms": 17.41,
            "throughput_rps_c8": None,
            "size_bytes": 1_287_973,
            "peak_memory_mib": 1096.0,
            "accuracy": 0.812,
            "vs_keras": {"same_label": 1.0, "max_abs_diff": 1.8e-7},
        },
        {
            "runtime": "tfjs-webgl",
            "cold_start_s": 1.21,
            "latency_p50_ms": 7.25,
            "latency_p99_ms": 15.5,
            "throughput_rps_c8": None,
            "size_bytes": 1_287_973,
            "peak_memory_mib": 1221.0,
            "accuracy": 0.812,
            "vs_keras": {"same_label": 1.0, "max_abs_diff": 1.8e-7},
        },
    ]
}


def solution() -> dict:
    """The solution file, run as the notebook runs it."""
    scope = {}
    exec((NOTEBOOKS / "solutions" / "08_compare_and_choose.py").read_text(), scope)
    return scope["my_choice"]


def test_the_starter_is_not_yet_done():
    verdict = check_choice(copy.deepcopy(STARTER), REPORT)
    assert not verdict
    assert verdict.message == (
        "Describe your application in one line in 'application': what it predicts, for whom."
    )


def test_the_starter_in_the_notebook_is_the_one_tested_here():
    import nbformat

    nb = nbformat.read(NOTEBOOKS / "08_compare_and_choose.ipynb", as_version=4)
    (cell,) = [c for c in nb.cells if "exercise" in c.metadata.get("tags", [])]
    scope = {}
    exec(cell.source, scope)
    assert scope["my_choice"] == STARTER


def test_the_solution_is_right():
    verdict = check_choice(solution(), REPORT)
    assert verdict, verdict
    assert verdict.message == (
        "TensorFlow.js in the browser for your application: the guide agrees, and tfjs-cpu · 'size (MB)' "
        "backs it."
    )


def test_a_missing_answer_names_the_question():
    choice = {**solution(), "gpu": "maybe"}
    assert str(check_choice(choice, REPORT)) == (
        "❌ Not yet: Answer 'gpu' with True or False: "
        "Need a GPU? The model is too heavy for the clients' CPUs."
    )


def test_another_runtime_without_a_reason_is_not_yet_and_with_one_is_right():
    choice = {
        **solution(),
        "runtime": "flask",
        "evidence": {"row": "flask-production", "column": "req/s at c=8", "value": 781.2},
    }
    assert check_choice(choice, REPORT).message == (
        "For these answers the guide says tfjs, not flask: pick it, or say in 'why_not_the_guide' why you "
        "choose otherwise."
    )
    choice["why_not_the_guide"] = "our visitors' phones are old; we log every prediction centrally"
    verdict = check_choice(choice, REPORT)
    assert verdict and "you chose it over the guide's tfjs and said why" in verdict.message


def test_a_figure_that_is_not_in_the_table_is_not_yet():
    choice = solution()
    choice["evidence"] = {"row": "tfjs-cpu", "column": "size (MB)", "value": 3.01}  # the SavedModel's size
    assert check_choice(choice, REPORT).message == (
        "The table's tfjs-cpu · 'size (MB)' is not 3.01: copy the figure as the table above shows it."
    )
    choice["evidence"] = {"row": "flask-production", "column": "size (MB)", "value": 3.01}
    assert "one of tfjs's rows (tfjs-cpu, tfjs-webgl)" in check_choice(choice, REPORT).message


def test_figures_match_to_the_digits_the_table_shows():
    choice = solution()
    for column, value in (
        ("same label as Keras", 100.0),
        ("same label as Keras", 1.0),
        ("same label as Keras", "100.0%"),
        ("max abs. diff. vs Keras", 1.8e-7),
        ("p99 (ms)", 17.41),
        ("size (MB)", "1.29"),
    ):
        choice["evidence"] = {"row": "tfjs-cpu", "column": column, "value": value}
        assert check_choice(choice, REPORT), (column, value)
    choice["evidence"] = {"row": "tfjs-cpu", "column": "p99 (ms)", "value": 17.4}
    assert not check_choice(choice, REPORT)
