"""One exception type for problems a user can fix; the CLI prints it as one line, never a traceback."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable


class NowWhatError(Exception):
    """A user-fixable problem. The message says what is wrong and what to do."""


def reports_errors(main: Callable[..., int | None]) -> Callable[..., int]:
    """For a command's `main()`: a NowWhatError raised anywhere in it becomes one `error: …` line on stderr
    and exit status 2 (never a traceback); otherwise main's own status (None counts as 0)."""

    @functools.wraps(main)
    def run(*args, **kwargs) -> int:
        try:
            return main(*args, **kwargs) or 0
        except NowWhatError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2

    return run
