"""Execute the workshop notebooks in order with papermill, into the build folder."""

from __future__ import annotations

import re
import time
from pathlib import Path

from nowwhat.errors import NowWhatError
from nowwhat.paths import REPO_ROOT, build_dir

NOTEBOOKS = REPO_ROOT / "notebooks"


def notebooks() -> list[Path]:
    """Every chapter notebook (NN_name.ipynb), in chapter order."""
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def solution_file(nb) -> Path | None:
    """The file the notebook's `solution` cell loads (`%load solutions/NN_name.py`), if it has one."""
    for cell in nb.cells:
        if "solution" in cell.metadata.get("tags", []):
            match = re.search(r"^%load\s+(\S+)", cell.source, re.MULTILINE)
            if not match:
                raise NowWhatError("a `solution` cell must load its file: %load solutions/<notebook>.py")
            return NOTEBOOKS / match.group(1)
    return None


def check_output(nb) -> str:
    """What the notebook's `check` cell printed or showed: the exercise's verdict line."""
    cell = next(c for c in nb.cells if "check" in c.metadata.get("tags", []))
    return "".join(o.get("text", "") or o.get("data", {}).get("text/plain", "") for o in cell.outputs)


def with_solution(notebook: Path, out_dir: Path) -> Path:
    """A copy of the notebook (in out_dir) whose `exercise` cell holds the solution instead of the starter:
    how CI proves every check passes with its solution and the chapter still runs to the end."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    solution = solution_file(nb)
    exercises = [c for c in nb.cells if "exercise" in c.metadata.get("tags", [])]
    if solution is not None:
        if len(exercises) != 1:
            raise NowWhatError(f"{notebook.name}: expected one `exercise` cell, found {len(exercises)}")
        exercises[0].source = solution.read_text().rstrip("\n")
    copy = Path(out_dir) / "with-solutions" / notebook.name
    copy.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, copy)
    return copy


def run(notebook: Path, out_dir: Path | None = None, parameters: dict | None = None,
        solutions: bool = False) -> Path:
    """Run one notebook top to bottom (with its exercise solved if `solutions`); a failing cell becomes a
    one-line error naming the saved output."""
    import papermill

    out_dir = Path(out_dir or build_dir() / "notebooks")
    out_dir.mkdir(parents=True, exist_ok=True)
    output = out_dir / notebook.name
    source = with_solution(notebook, out_dir) if solutions else notebook
    try:
        papermill.execute_notebook(
            str(source),
            str(output),
            parameters=parameters or {},
            cwd=str(notebook.parent),
            kernel_name="python3",
            progress_bar=False,
            log_output=False,
        )
    except papermill.PapermillExecutionError as exc:
        raise NowWhatError(
            f"{notebook.name} failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue} "
            f"(the executed notebook, with the error, is at {output})"
        ) from exc
    return output


def run_all(out_dir: Path | None = None, parameters: dict | None = None,
            solutions: bool = False) -> list[tuple[str, float]]:
    """Run every notebook in order, printing progress; stops at the first failure."""
    found = notebooks()
    if not found:
        raise NowWhatError(f"no notebooks found in {NOTEBOOKS}: run from a checkout of the repository")
    timings = []
    for i, notebook in enumerate(found, 1):
        print(f"[{i}/{len(found)}] {notebook.name} …", flush=True)
        start = time.perf_counter()
        run(notebook, out_dir, parameters, solutions)
        timings.append((notebook.name, time.perf_counter() - start))
        print(f"      done in {timings[-1][1]:.1f} s", flush=True)
    return timings


#: Lines TensorFlow prints to stderr at start-up whatever the log level; noise in a committed notebook.
_NOISE = (
    "absl::InitializeLog",
    "oneDNN custom operations",
    "cpu_feature_guard",
    "To enable the following",
    "node_def_util.cc",
    "This TensorFlow binary is optimized",
    "fully_quantize: ",  # the LiteRT converter's quantizer, from C++, past any Python redirect
    "Created TensorFlow Lite XNNPACK delegate",
)


def refresh(notebook: Path) -> None:
    """Re-execute a chapter notebook and write it back with its outputs, minus TensorFlow's log noise.

    For maintainers: committed notebooks carry outputs so readers see results and nbval has something
    to compare `# NBVAL_CHECK_OUTPUT` cells against.
    """
    import tempfile

    import nbformat

    with tempfile.TemporaryDirectory() as tmp:
        executed = run(notebook, Path(tmp))
        nb = nbformat.read(executed, as_version=4)
    nbformat.write(without_noise(nb), notebook)


def without_noise(nb):
    """The executed notebook without run metadata and TensorFlow's start-up lines on stderr."""
    for cell in nb.cells:
        cell.get("metadata", {}).pop("papermill", None)
        cell.get("metadata", {}).pop("execution", None)
        for output in cell.get("outputs", []):
            if output.get("name") == "stderr":
                kept = [
                    line for line in output["text"].splitlines(True) if not any(n in line for n in _NOISE)
                ]
                output["text"] = "".join(kept)
        if "outputs" in cell:
            cell["outputs"] = [o for o in cell["outputs"] if o.get("name") != "stderr" or o["text"].strip()]
    nb.metadata.pop("papermill", None)
    return nb
