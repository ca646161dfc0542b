"""Show a demo's real code in a notebook: a function, a class or a few lines, read from its file.

Notebooks show code this way so that what the learner reads is what runs: there is no second copy to
drift. Missing names fail loudly, so a renamed function breaks the notebook instead of showing nothing.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from nowwhat.errors import NowWhatError
from nowwhat.paths import REPO_ROOT

_LANGUAGES = {".py": "python", ".js": "javascript", ".mjs": "javascript", ".json": "json", ".sh": "bash",
              ".yaml": "yaml", ".yml": "yaml", ".config": "protobuf", ".toml": "toml", ".txt": "text"}


def source(path: str | Path, *names: str, start: str | None = None, end: str | None = None) -> str:
    """The text of `names` (Python: `func`, `Class` or `Class.method`; JavaScript: `function name` or
    `const name`), or of the lines from the first matching `start` regex to the first `end` match after
    it (both included), or the whole file."""
    path = Path(path)
    text = path.read_text()
    if names:
        find = _python if path.suffix == ".py" else _javascript
        return "\n\n".join(find(text, name, path) for name in names)
    if start is None:
        return text.rstrip("\n")
    lines = text.splitlines()
    first = _first_match(lines, start, 0, path)
    last = _first_match(lines, end, first, path) if end else len(lines) - 1
    return "\n".join(lines[first:last + 1])


def code(path: str | Path, *names: str, start: str | None = None, end: str | None = None,
         language: str | None = None):
    """`source()` as a Markdown code block captioned with the file it came from, for `display()`."""
    from IPython.display import Markdown

    path = Path(path).resolve()
    shown = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path
    what = f" — {', '.join(f'`{n}`' for n in names)}" if names else ""
    language = language or _LANGUAGES.get(path.suffix, "dockerfile" if path.name == "Dockerfile" else "")
    body = source(path, *names, start=start, end=end)
    return Markdown(f"From `{shown}`{what}:\n\n```{language}\n{body}\n```")


def _python(text: str, name: str, path: Path) -> str:
    scope: list[ast.stmt] = ast.parse(text).body
    node = None
    for part in name.split("."):
        node = next((n for n in scope if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                     and n.name == part), None)
        if node is None:
            raise NowWhatError(f"{path.name} has no function or class {name!r} to show")
        scope = node.body
    lines = text.splitlines()
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
    body = lines[first:node.end_lineno]
    indent = len(body[0]) - len(body[0].lstrip())
    return "\n".join(line[indent:] for line in body)


def _javascript(text: str, name: str, path: Path) -> str:
    """A top-level `function name(…) {…}` or `const name = …;` block: from its line to the next line
    that closes it at column 0 (`}` or `};`), as the demo's code is formatted."""
    lines = text.splitlines()
    pattern = rf"^(export\s+)?(async\s+)?(function\s+{re.escape(name)}\b|(const|let)\s+{re.escape(name)}\b)"
    first = _first_match(lines, pattern, 0, path)
    if lines[first].rstrip().endswith(";"):
        return lines[first]
    last = _first_match(lines, r"^[}\]]", first, path)
    return "\n".join(lines[first:last + 1])


def _first_match(lines: list[str], pattern: str, begin: int, path: Path) -> int:
    for i in range(begin, len(lines)):
        if re.search(pattern, lines[i]):
            return i
    raise NowWhatError(f"{path.name} has no line matching {pattern!r} to show")
