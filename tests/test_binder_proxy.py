"""Binder's image has jupyter-server-proxy, enabled: notebook 04 shows the TF.js page through it.

It is a Jupyter server extension that enables itself by being installed (its wheel ships a
`jupyter_server_config.d` file), so the image needs only the pinned requirement that binder/requirements.txt
pulls in; tests/test_tfjs_proxy.py proves the page works through a real server's proxy path.
"""

import re
import subprocess
import sys
from pathlib import Path

from nowwhat.paths import REPO_ROOT


def test_binder_installs_the_pinned_proxy():
    binder = (REPO_ROOT / "binder" / "requirements.txt").read_text()
    assert re.search(r"^-r \.\./requirements\.txt$", binder, re.MULTILINE)
    for pins in ("requirements.txt", "constraints.txt"):
        assert "jupyter-server-proxy==4.6.0" in (REPO_ROOT / pins).read_text().splitlines(), pins


def test_installing_it_enables_the_server_extension(tmp_path):
    """From the environment's own config alone (no user config folder)."""
    config = Path(sys.prefix) / "etc" / "jupyter" / "jupyter_server_config.d" / "jupyter-server-proxy.json"
    assert '"jupyter_server_proxy": true' in config.read_text()
    listing = subprocess.run(
        [str(Path(sys.executable).with_name("jupyter")), "server", "extension", "list"],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            "PATH": str(Path(sys.executable).parent),
            "HOME": str(tmp_path),
            "JUPYTER_CONFIG_DIR": str(tmp_path),
        },
    )
    text = re.sub(r"\x1b\[[0-9;]*m", "", listing.stdout + listing.stderr)
    assert re.search(r"jupyter_server_proxy\s+enabled", text), text
    assert re.search(r"jupyter_server_proxy 4\.6\.0\s+OK", text), text
