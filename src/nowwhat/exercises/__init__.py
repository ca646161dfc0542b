"""The chapters' exercises: each `check_…()` says in one sentence whether the learner's answer is right.

A check never raises on a wrong answer (the learner is mid-way, not in error): it returns a `Verdict`
that a notebook shows as one line, ✅ or ❌, and that tests can read (`bool(verdict)`). The chapter modules
in this folder hold the checks; the solutions are files in `notebooks/solutions/`.
"""

from __future__ import annotations

from dataclasses import dataclass

RIGHT, NOT_YET = "✅ Right:", "❌ Not yet:"


@dataclass(frozen=True)
class Verdict:
    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        return f"{RIGHT if self.passed else NOT_YET} {self.message}"

    __repr__ = __str__  # what a notebook shows when a check is a cell's last expression


def right(message: str) -> Verdict:
    return Verdict(True, message)


def not_yet(message: str) -> Verdict:
    return Verdict(False, message)
