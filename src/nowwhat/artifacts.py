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
