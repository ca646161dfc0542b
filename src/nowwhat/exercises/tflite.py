"""Chapter 05's exercise: choose the LiteRT level that fits an app's budget, from this run's measurements.

The check derives the answer from the figures the learner sees (the benchmark rows and the short-review
table), so it follows the model: any level that fits is right, and a level that misses is told which part
of the budget it misses.
"""

from __future__ import annotations

from nowwhat.exercises import Verdict, not_yet, right

#: The app's budget: at most 700 kB added, at most 1 point of accuracy lost against Keras, probabilities
#: within 0.001 of Keras' (the app shows them as percentages with one decimal), and an answer for one-word
#: reviews.
BUDGET = {"max_kb": 700, "max_accuracy_drop": 0.01, "max_abs_diff": 1e-3}


def misses(row: dict, one_word_failures: int) -> list[str]:
    """What part of the budget one benchmark row misses (empty: it fits)."""
    reasons = []
    if row["bytes"] / 1e3 > BUDGET["max_kb"]:
        reasons.append(f"its file is {row['bytes'] / 1e3:,.0f} kB, over {BUDGET['max_kb']} kB")
    drop = row["keras_test_accuracy"] - row["test_accuracy"]
    if drop > BUDGET["max_accuracy_drop"]:
        reasons.append(f"it loses {drop * 100:.1f} points of accuracy, over 1")
    if row["max_abs_diff"] > BUDGET["max_abs_diff"]:
        reasons.append(f"its probabilities move up to {row['max_abs_diff']:.1e} from Keras', over 1e-3")
    if one_word_failures:
        reasons.append(f"it could not compute {one_word_failures} one-word reviews")
    return reasons


def check_level_choice(choice, levels: list[dict], short: list[dict]) -> Verdict:
    """`levels`: the benchmark's rows (`measured["levels"]`); `short`: `evaluate.short_reviews()` rows."""
    names = [row["level"] for row in levels]
    if choice not in names:
        return not_yet(
            f"choice is {choice!r}: set it to the name of the level that fits the budget, one of "
            f"{', '.join(map(repr, names))}."
        )
    failures = {r["level"]: r["failed"] for r in short if r["words"] == 1}
    fitting = [row["level"] for row in levels if not misses(row, failures.get(row["level"], 0))]
    row = levels[names.index(choice)]
    reasons = misses(row, failures.get(choice, 0))
    if reasons:
        return not_yet(f"{choice} misses the budget: {'; '.join(reasons)}. Compare every column with it.")
    others = [name for name in fitting if name != choice]
    also = f" ({', '.join(others)} would fit too)" if others else " (the only level that does)"
    return right(
        f"{choice} fits{also}: {row['bytes'] / 1e3:,.0f} kB, accuracy {row['test_accuracy']:.3f} against "
        f"Keras' {row['keras_test_accuracy']:.3f}, probabilities within 1e-3 of Keras', one-word reviews "
        "answered."
    )
