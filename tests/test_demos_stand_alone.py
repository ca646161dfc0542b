"""A demo is a template: copied alone into an empty folder, it runs its own tests with the command its
README gives, and its code names nothing of this repository (no `nowwhat` import, no path out of it).

The Python demos run their pytest suites here; the TF.js demo's own steps (convert.py, `npm test`, the
page in Chromium) run in a copy of it in tests/test_tfjs_second_model.py.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nowwhat.paths import REPO_ROOT

#: Demo folder → its README's test command (run from the folder).
STANDALONE = {
    demo: "pip install -r requirements-test.txt && python -m pytest"
    for demo in ("flask", "mlflow", "monitoring", "onnx", "r-client", "tf-serving", "tflite")
} | {"mlserver": "pip install -r requirements-test.txt -c constraints.txt && python -m pytest"}
#: Demos whose tests run in an environment of their own, which `make setup` makes.
PYTHONS = {"mlserver": REPO_ROOT / ".venv-mlserver" / "bin" / "python"}
DEMOS = sorted({*STANDALONE, "tfjs"})
#: Results of a run, which the README shows (not code: they record where they were made).
RECORDS = {"container-check.json"}
CODE = {".py", ".R", ".sh", ".mjs", ".js", ".json", ".toml", ".ini", ".txt", ".yaml", ".yml", ".cfg", ""}
#: Run the tests with the workshop package made unimportable: a missed `import nowwhat` fails them.
WITHOUT_THE_PACKAGE = (
    "import sys; sys.modules['nowwhat'] = None; import pytest; "
    "sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider']))"
)


#: What a copy leaves behind: installed packages and caches.
NOT_COPIED = shutil.ignore_patterns("node_modules", ".venv*", "__pycache__", ".hypothesis", ".pytest_cache")


def copied_alone(demo: str, into) -> Path:
    shutil.copytree(REPO_ROOT / "demos" / demo, into / demo, ignore=NOT_COPIED)
    return into / demo


@pytest.mark.parametrize("demo", DEMOS)
def test_the_demo_s_code_names_nothing_of_the_repository(demo, tmp_path):
    copy = copied_alone(demo, tmp_path)
    code = [p for p in sorted(copy.rglob("*")) if p.is_file() and p.suffix in CODE and p.name not in RECORDS]
    found = [
        f"{path.relative_to(copy)}:{number}: {line.strip()}"
        for path in code
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if re.search(r"nowwhat|\.\./\.\.|NOWWHAT_BUILD|parents\[2\]", line)
    ]
    assert code and not found, "\n".join(found)


@pytest.mark.slow
@pytest.mark.parametrize("demo", sorted(STANDALONE))
def test_copied_alone_the_demo_passes_its_own_tests(demo, tmp_path):
    readme = (REPO_ROOT / "demos" / demo / "README.md").read_text().splitlines()
    assert any(line.startswith(STANDALONE[demo]) for line in readme), "the README's test command"
    done = subprocess.run(
        [str(PYTHONS.get(demo, sys.executable)), "-c", WITHOUT_THE_PACKAGE],
        cwd=copied_alone(demo, tmp_path),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert re.search(r"\d+ passed", done.stdout) and "skipped" not in done.stdout, done.stdout[-2000:]


@pytest.mark.parametrize("demo", DEMOS)
def test_the_demo_s_requirements_pin_the_versions_tested_here(demo):
    """What a copy installs is what this repository's suite ran its tests with (a tool with an
    environment of its own, such as the TF.js converter: its constraints file, which setup installs)."""

    def pins(path: Path) -> dict[str, str]:
        found = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", path.read_text(), flags=re.MULTILINE)
        return {name.lower().replace("_", "-"): version for name, version in found}

    own = sorted((REPO_ROOT / "demos" / demo).glob("constraints*.txt"))
    tested = pins(REPO_ROOT / "constraints.txt") | pins(REPO_ROOT / "requirements.txt")
    tested |= {name: v for path in own for name, v in pins(path).items()}
    files = sorted((REPO_ROOT / "demos" / demo).glob("requirements*.txt"))
    demo_pins = {name: v for path in files for name, v in pins(path).items()}
    assert files and demo_pins
    assert {name: tested.get(name) for name in demo_pins} == demo_pins
