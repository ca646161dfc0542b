"""Chapter 05's check: choose the LiteRT level for a budget, judged from measured rows (no notebook run)."""

from nowwhat.exercises.tflite import check_level_choice

KERAS = 0.812
#: This run's figures (benchmark on the 1,000 test reviews, short-review table), as the notebook shows them.
LEVELS = [
    {"level": "float32", "bytes": 1283920, "test_accuracy": 0.812, "max_abs_diff": 5.7e-7},
    {"level": "float16", "bytes": 644444, "test_accuracy": 0.813, "max_abs_diff": 1.1e-4},
    {"level": "dynamic", "bytes": 324200, "test_accuracy": 0.813, "max_abs_diff": 3.5e-3},
    {"level": "int8", "bytes": 324680, "test_accuracy": 0.811, "max_abs_diff": 1.1e-2},
]
LEVELS = [{**row, "keras_test_accuracy": KERAS} for row in LEVELS]
SHORT = [{"words": 1, "level": row["level"], "failed": 0} for row in LEVELS]


def test_the_untouched_starter_is_not_yet():
    verdict = check_level_choice(None, LEVELS, SHORT)
    assert not verdict
    assert verdict.message == (
        "choice is None: set it to the name of the level that fits the budget, one of "
        "'float32', 'float16', 'dynamic', 'int8'."
    )


def test_the_only_level_that_fits_is_right():
    verdict = check_level_choice("float16", LEVELS, SHORT)
    assert verdict and "(the only level that does)" in verdict.message and "644 kB" in verdict.message


def test_too_big():
    verdict = check_level_choice("float32", LEVELS, SHORT)
    assert not verdict and "its file is 1,284 kB, over 700 kB" in verdict.message


def test_small_but_too_far_from_keras():
    verdict = check_level_choice("dynamic", LEVELS, SHORT)
    assert not verdict
    assert verdict.message == (
        "dynamic misses the budget: its probabilities move up to 3.5e-03 from Keras', over 1e-3. "
        "Compare every column with it."
    )


def test_a_level_that_cannot_compute_one_word_misses_whatever_its_size():
    """The fully quantized int8 model, before the chapter's fix: 200 one-word reviews failed."""
    short = [{**r, "failed": 200} if r["level"] == "int8" else r for r in SHORT]
    rows = [{**r, "max_abs_diff": 1e-4} if r["level"] == "int8" else r for r in LEVELS]
    verdict = check_level_choice("int8", rows, short)
    assert not verdict and verdict.message.endswith(
        "it could not compute 200 one-word reviews. Compare every column with it."
    )


def test_the_answer_follows_the_measurements():
    """Another run where two levels fit: either is right, and the message names the other."""
    rows = [{**r, "max_abs_diff": 5e-4} if r["level"] == "dynamic" else r for r in LEVELS]
    verdict = check_level_choice("dynamic", rows, SHORT)
    assert verdict and "(float16 would fit too)" in verdict.message
    assert not check_level_choice("great", LEVELS, SHORT)
