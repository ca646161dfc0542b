"""The talk's diagrams: every images/src/<name>.dot → images/<name>.svg with graphviz (`make images`).

Diagrams are text so anyone can change them; the SVGs are committed so nobody needs graphviz to read the
slides. Each SVG carries the SHA-256 of the source it was made from, so a test (without graphviz) can tell
when a source was edited and not re-rendered, or an SVG was edited by hand.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import subprocess
from pathlib import Path

from nowwhat.errors import NowWhatError, reports_errors
from nowwhat.paths import REPO_ROOT

IMAGES = REPO_ROOT / "images"
SOURCES = IMAGES / "src"
_STAMP = re.compile(
    r"<!-- nowwhat\.workshop\.diagrams source=(?P<name>\S+) sha256=(?P<digest>[0-9a-f]{64}) -->"
)


def sources(folder: Path = SOURCES) -> list[Path]:
    return sorted(Path(folder).glob("*.dot"))


def digest(source: Path) -> str:
    return hashlib.sha256(Path(source).read_bytes()).hexdigest()


def graphviz() -> str:
    """The path of graphviz's `dot`, or a one-line error saying how to install it."""
    found = shutil.which("dot")
    if not found:
        raise NowWhatError(
            "graphviz's `dot` is not installed: run `make setup-slides` (apt-get install graphviz)"
        )
    return found


def render(source: Path, out_dir: Path = IMAGES) -> Path:
    """Render one source to <out_dir>/<name>.svg, stamped with the source's hash."""
    source = Path(source)
    result = subprocess.run(
        [graphviz(), "-Tsvg", str(source)], capture_output=True, text=True, timeout=60, check=False
    )
    if result.returncode != 0:
        raise NowWhatError(f"graphviz could not render {source.name}: {result.stderr.strip()}")
    svg = result.stdout
    at = svg.index("<svg")
    stamp = f"<!-- nowwhat.workshop.diagrams source={source.name} sha256={digest(source)} -->\n"
    out = Path(out_dir) / f"{source.stem}.svg"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(svg[:at] + stamp + svg[at:])
    return out


def stamp(svg: Path) -> tuple[str, str] | None:
    """(source name, source hash) recorded in a rendered SVG, or None for an SVG not made here."""
    found = _STAMP.search(Path(svg).read_text())
    return (found["name"], found["digest"]) if found else None


def out_of_step(source_dir: Path = SOURCES, out_dir: Path = IMAGES) -> list[str]:
    """Why each diagram is out of step with its source (missing, stale, hand-made); empty when all agree."""
    problems = []
    for source in sources(source_dir):
        svg = Path(out_dir) / f"{source.stem}.svg"
        if not svg.exists():
            problems.append(f"{svg.name}: missing")
        elif stamp(svg) != (source.name, digest(source)):
            problems.append(f"{svg.name}: not rendered from the current {source.name}")
    names = {s.stem for s in sources(source_dir)}
    problems += [
        f"{svg.name}: has no source in {source_dir}"
        for svg in sorted(Path(out_dir).glob("*.svg"))
        if svg.stem not in names
    ]
    return problems


@reports_errors
def main(argv: list[str] | None = None) -> int:
    top = argparse.ArgumentParser(
        prog="python -m nowwhat diagrams build", description=__doc__.splitlines()[0]
    )
    top.add_argument(
        "--check", action="store_true", help="only report diagrams out of step with their source"
    )
    top.add_argument("--out", type=Path, default=IMAGES, help="where to write the SVGs (default: images/)")
    args = top.parse_args(argv)
    if args.check:
        problems = out_of_step(out_dir=args.out)
        for problem in problems:
            print(problem)
        print("run `make images`" if problems else "every diagram matches its source")
        return 1 if problems else 0
    for source in sources():
        print(f"{source.relative_to(REPO_ROOT)} → {render(source, args.out)}")
    return 0
