"""One exception type for problems a user can fix; the CLI prints it as one line, never a traceback."""


class NowWhatError(Exception):
    """A user-fixable problem. The message says what is wrong and what to do."""
