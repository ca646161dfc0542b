"""Writing artifacts safely and saying where they came from.

Every artifact folder is written to a temporary sibling and renamed into place only when complete, so an
interrupted run never leaves half an artifact behind; each carries a `manifest.json` (contract version,
code version, data fingerprint, metrics) that loaders check before trusting it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from nowwhat import CONTRACT_VERSION, __version__
from nowwhat.errors import NowWhatError
from nowwhat.paths import REPO_ROOT

MANIFEST = "manifest.json"


def machine() -> dict:
    """The machine a figure was measured on, recorded the same way in every results file."""
    import os
    import platform

    import psutil

    cpuinfo = Path("/proc/cpuinfo")
    names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if
             line.startswith("model name")] if cpuinfo.exists() else []  # fmt: skip
    return {
        "cpu": names[0] if names else platform.processor(),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
    }


def folder_bytes(path: Path) -> int:
    """Bytes of a file, or of every file under a folder."""
    path = Path(path)
    return (
        path.stat().st_size
        if path.is_file()
        else sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    )


def replace_section(readme: Path, begin: str, end: str, section: str) -> None:
    """Rewrite the generated part of a README, from the line `begin` to the line `end` (both kept: the
    section is expected to start with `begin` and end with `end`)."""
    text = readme.read_text()
    if begin not in text or end not in text:
        raise NowWhatError(f"{readme} has no generated section ({begin} … {end})")
    head, rest = text.split(begin, 1)
    readme.write_text(head + section + rest.split(end, 1)[1])


def record(result: dict, recorded: Path, readme: Path, begin: str, end: str, section: str) -> None:
    """Keep a benchmark run as the one a demo README shows: the results file beside the README, and the
    README's generated section (from `begin` to `end`) rewritten from it."""
    write_json(recorded, result)
    replace_section(readme, begin, end, section)
    print(f"recorded in {_shown(recorded)} and {_shown(readme)}")


def _shown(path: Path) -> Path:
    return path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path


def code_version() -> str:
    """Package version plus the git commit (and '-dirty') when run from a checkout."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return __version__
    return f"{__version__}+{commit}"


@contextlib.contextmanager
def staged(dest: Path):
    """Yield a temporary folder; on success it replaces `dest`, on any error it is removed."""
    dest = Path(dest)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
    except OSError as exc:
        raise NowWhatError(
            f"cannot write to {dest.parent} ({exc.strerror}): choose a writable folder with NOWWHAT_BUILD"
        ) from exc
    try:
        yield tmp
        if dest.exists():
            shutil.rmtree(dest)
        tmp.rename(dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_manifest(folder: Path, kind: str, **fields) -> dict:
    manifest = {
        "kind": kind,
        "contract_version": CONTRACT_VERSION,
        "code_version": code_version(),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        **fields,
    }
    (Path(folder) / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def read_manifest(folder: Path, kind: str, rebuild: str) -> dict:
    """The manifest of a usable artifact, or a one-line error naming the command that rebuilds it."""
    path = Path(folder) / MANIFEST
    if not path.exists():
        raise NowWhatError(f"no {kind} found at {folder}: run `{rebuild}`")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise NowWhatError(f"the {kind} manifest at {path} is unreadable ({exc}): run `{rebuild}`") from exc
    if manifest.get("kind") != kind:
        raise NowWhatError(f"{folder} holds a {manifest.get('kind')!r}, not a {kind}: run `{rebuild}`")
    found = manifest.get("contract_version")
    if found != CONTRACT_VERSION:
        raise NowWhatError(
            f"the {kind} at {folder} was built for contract v{found}, this code expects "
            f"v{CONTRACT_VERSION}: rebuild it with `{rebuild}`"
        )
    return manifest


def write_json(path: Path, payload) -> None:
    """Strict JSON (no NaN/Infinity), so every runtime's parser, JavaScript's included, can read it."""
    Path(path).write_text(json.dumps(payload, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
