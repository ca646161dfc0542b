"""Chapter 08's exercise: answer the four questions for your own application, pick a runtime, and defend
the pick with one figure from the measured table.

The learner fills a dict (see `STARTER`); `check_choice(choice, report)` says in one sentence what is
missing or wrong. It never prints a measured figure, so its answer is the same on every machine.
"""

from __future__ import annotations

from nowwhat.compare.bench import COLUMNS, shown
from nowwhat.compare.decide import CHAPTERS, QUESTIONS, recommend
from nowwhat.exercises import Verdict, not_yet, right

#: What the notebook's starter cell holds: nothing answered yet.
STARTER = {
    "application": "",
    **dict.fromkeys(QUESTIONS),
    "runtime": "",
    "why_not_the_guide": "",
    "evidence": {"row": "", "column": "", "value": None},
}
YES_NO = {True: True, False: False, "yes": True, "no": False}


def _answer(value) -> bool | None:
    """True/False or "yes"/"no" → bool; anything else (None, "maybe", 1) → None."""
    key = value.strip().lower() if isinstance(value, str) else value
    return YES_NO.get(key) if isinstance(key, bool | str) else None


def _matches(row: dict, column: str, value) -> bool:
    """The learner's figure is the table's, to the digits the table shows (a percentage may be typed as
    100.0 or as 1.0; a string is compared as written)."""
    cell = shown(row, column)
    if isinstance(value, str):
        return value.strip() == cell
    if not isinstance(value, int | float) or isinstance(value, bool) or cell == "—":
        return False
    fmt = COLUMNS[column][1]
    candidates = [value, value / 100] if fmt.endswith("%}") else [value]
    return any(fmt.format(v) == cell for v in candidates)


def check_choice(choice: dict, report: dict) -> Verdict:
    """Are the four answers given, does the pick follow the guide (or say why not), and is the cited figure
    really in the measured table, in a row of the runtime picked?"""
    if not str(choice.get("application") or "").strip():
        return not_yet("Describe your application in one line in 'application': what it predicts, for whom.")
    answers = {question: _answer(choice.get(question)) for question in QUESTIONS}
    for question, text in QUESTIONS.items():
        if answers[question] is None:
            return not_yet(f"Answer '{question}' with True or False: {text}")
    runtime = choice.get("runtime")
    if runtime not in CHAPTERS:
        return not_yet(f"Set 'runtime' to the one you pick: {', '.join(CHAPTERS)}.")
    guide = recommend(**answers)
    own_way = runtime != guide.runtime
    if own_way and not str(choice.get("why_not_the_guide") or "").strip():
        return not_yet(
            f"For these answers the guide says {guide.runtime}, not {runtime}: pick it, or say in "
            "'why_not_the_guide' why you choose otherwise."
        )
    evidence = choice.get("evidence") or {}
    rows = {row["runtime"]: row for row in report["results"] if row["runtime"].startswith(runtime + "-")}
    name, column = evidence.get("row"), evidence.get("column")
    if name not in rows:
        return not_yet(
            f"Name the table row your figure comes from in evidence['row']: one of {runtime}'s rows "
            f"({', '.join(rows) or 'none measured: run the harness above'})."
        )
    if column not in COLUMNS:
        return not_yet(
            f"Name the table column in evidence['column'] as its header says: {', '.join(COLUMNS)}."
        )
    if evidence.get("value") is None:
        return not_yet(f"Copy the figure from row {name}, column '{column}' into evidence['value'].")
    if not _matches(rows[name], column, evidence["value"]):
        return not_yet(
            f"The table's {name} · '{column}' is not {evidence['value']!r}: copy the figure as the table "
            "above shows it."
        )
    how = f"you chose it over the guide's {guide.runtime} and said why" if own_way else "the guide agrees"
    return right(f"{CHAPTERS[runtime][2]} for your application: {how}, and {name} · '{column}' backs it.")
