"""The one Markdown table builder: every table in the READMEs, notebooks and slides comes from here."""

from __future__ import annotations


def markdown(header: list[str], rows: list[list], right: set[int] | frozenset[int] = frozenset()) -> str:
    """A Markdown table; columns whose index is in `right` are right-aligned (numbers). A `|` inside a
    cell is escaped so it cannot split the row."""

    def line(cells) -> str:
        return "| " + " | ".join(str(cell).replace("|", "\\|") for cell in cells) + " |"

    rule = "|" + "".join("---:|" if i in right else "---|" for i in range(len(header)))
    return "\n".join([line(header), rule, *(line(row) for row in rows)])
