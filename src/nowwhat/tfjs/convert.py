"""Convert the core model to a TensorFlow.js graph model with the real `tensorflowjs_converter`.

The converter lives in its own virtual environment (`.venv-tfjs`, made by `make setup-tfjs`) because
`tensorflowjs` 4.22 pulls `tensorflow==2.19` through tensorflow-decision-forests: installed into the
workshop's environment it would overwrite tensorflow-cpu 2.21 and break it. This module only calls the
converter's command line; nothing from that environment is imported here.

Only the integer-id core converts (TF.js has no string ops), so the page tokenizes text itself with the
exported spec, which is copied next to the models. Output, under <build>/tfjs/model:

    float32/model.json + weight shard   exact weights (the default)
    float16/model.json + weight shard   weights stored as float16: half the download
    tokenizer.json, manifest.json

The conversion itself is the demo's own step, `demos/tfjs/convert.py` (a learner converts their model
with it); this module runs it on the workshop's export with the converter environment and adds where
the model came from to the manifest. `python -m nowwhat tfjs convert` builds it; `python -m nowwhat
tfjs inspect` shows what is inside.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
from pathlib import Path

from nowwhat.artifacts import staged, write_manifest
from nowwhat.errors import NowWhatError, reports_errors
from nowwhat.export import ensure_derived, load_export
from nowwhat.paths import REPO_ROOT, build_dir, core_dir, demo_script, tokenizer_dir

KIND = "tfjs model"
REBUILD = "python -m nowwhat tfjs convert"
demo = demo_script("tfjs", "convert")
WEIGHTS = demo.WEIGHTS


def tfjs_dir() -> Path:
    """This chapter's build folder: the converted model and the benchmark figures."""
    return build_dir() / "tfjs"


def model_dir() -> Path:
    return tfjs_dir() / "model"


def converter() -> Path:
    """`tensorflowjs_converter` from the converter environment ($NOWWHAT_TFJS_VENV or .venv-tfjs)."""
    venv = Path(os.environ.get("NOWWHAT_TFJS_VENV", REPO_ROOT / ".venv-tfjs"))
    path = venv / "bin" / "tensorflowjs_converter"
    if not path.exists():
        raise NowWhatError(
            f"the TF.js converter is not installed ({path} is missing): run `make setup-tfjs` "
            "(a separate environment, so it cannot break the workshop's TensorFlow)"
        )
    return path


def convert_saved_model(saved_model: Path, out: Path, weights: str = "float32") -> None:
    """One SavedModel → one graph model folder (model.json + weight shards), by the demo's step."""
    try:
        demo.convert_weights(str(converter()), saved_model, out, weights)
    except demo.ConversionError as exc:
        raise NowWhatError(f"{exc}: run `make setup-tfjs`") from None


def shell_path(path: Path, cwd: Path = REPO_ROOT / "notebooks") -> str:
    """`path` as a command line run from `cwd` (a notebook's folder) names it: relative inside the
    repository (`../build/export/…`), under `$NOWWHAT_BUILD` when the build folder is elsewhere (the shell
    expands it), else absolute. So the command a notebook prints is the one it runs, and it shows no
    machine's scratch folder."""
    path = Path(path).resolve()
    if path.is_relative_to(REPO_ROOT):
        return os.path.relpath(path, cwd)
    if os.environ.get("NOWWHAT_BUILD") and path.is_relative_to(build_dir()):
        return f"$NOWWHAT_BUILD/{path.relative_to(build_dir())}".removesuffix("/.")
    return str(path)


def shell(command: str, cwd: Path = REPO_ROOT / "notebooks") -> None:
    """Run one command line as a shell would (a notebook's `!` line), quietly; a failure becomes one
    `NowWhatError` line with the command's last line of output."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    result = subprocess.run(
        command, shell=True, cwd=cwd, capture_output=True, text=True, env=env, timeout=600
    )
    if result.returncode != 0:
        last = ((result.stderr + result.stdout).strip().splitlines() or ["no output"])[-1]
        raise NowWhatError(f"the command failed with status {result.returncode}: {last}")


def convert(out: Path | None = None) -> dict:
    """Convert the exported core to float32 and float16 graph models, atomically, with the demo's own
    convert.py. Returns the manifest."""
    out = Path(out or model_dir())
    exported = load_export()
    with staged(out) as tmp:
        try:
            made = demo.convert(core_dir() / "saved_model", tokenizer_dir(), tmp, str(converter()))
        except demo.ConversionError as exc:
            raise NowWhatError(f"{exc}: run `make setup-tfjs`") from None
        provenance = {"data_fingerprint": exported["data_fingerprint"], "export_created": exported["created"]}
        manifest = write_manifest(tmp, KIND, **made, **provenance)
    return manifest


def ensure_converted() -> dict:
    """The converted model's manifest, converting first when it is missing or older than the export."""
    return ensure_derived(model_dir(), KIND, REBUILD, convert, "TF.js model")


def inspect(folder: Path) -> dict:
    """What a graph model folder holds: signature, operations, and each weight with its stored dtype."""
    path = Path(folder) / "model.json"
    if not path.exists():
        raise NowWhatError(f"no TF.js graph model at {folder}: run `{REBUILD}`")
    model = json.loads(path.read_text())
    signature = model["signature"]
    return {
        "format": model["format"],
        "converted_by": model["convertedBy"],
        "inputs": {k: _tensor(v) for k, v in signature["inputs"].items()},
        "outputs": {k: _tensor(v) for k, v in signature["outputs"].items()},
        "operations": sorted({node["op"] for node in model["modelTopology"]["node"]}),
        "weights": [
            {
                "name": w["name"],
                "shape": w["shape"],
                "dtype": w["dtype"],
                "stored_as": w.get("quantization", {}).get("dtype", w["dtype"]),
            }
            for group in model["weightsManifest"]
            for w in group["weights"]
        ],
        "files": {f.name: f.stat().st_size for f in sorted(Path(folder).iterdir())},
    }


def read_weights(folder: Path) -> dict:
    """The weights as NumPy arrays, decoded from the binary shards the way TF.js reads them."""
    import numpy as np

    folder = Path(folder)
    model = json.loads((folder / "model.json").read_text())
    arrays = {}
    for group in model["weightsManifest"]:
        data = b"".join((folder / path).read_bytes() for path in group["paths"])
        offset = 0
        for weight in group["weights"]:
            stored = np.dtype(weight.get("quantization", {}).get("dtype", weight["dtype"]))
            if stored.kind not in "fi":
                raise NowWhatError(f"{weight['name']} is stored as {stored}: only floats and ints are read")
            count = int(np.prod(weight["shape"], dtype=np.int64))
            arrays[weight["name"]] = np.frombuffer(data, stored, count, offset).reshape(weight["shape"])
            offset += count * stored.itemsize
    return arrays


def _tensor(spec: dict) -> str:
    dims = [int(d.get("size", -1)) for d in spec["tensorShape"].get("dim", [])]
    return f"{spec['dtype'].removeprefix('DT_').lower()} {dims}"


@reports_errors
def main(argv: list[str] | None = None) -> int:
    top = argparse.ArgumentParser(prog="python -m nowwhat tfjs", description="TF.js conversion")
    sub = top.add_subparsers(dest="command", required=True)
    sub.add_parser("convert", help="convert the exported core model (float32 and float16)")
    sub.add_parser("inspect", help="signature, operations and weights of the converted model")
    args = top.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.command == "convert":
        manifest = convert()
        sizes = ", ".join(f"{w} {n / 1e6:.2f} MB" for w, n in manifest["bytes"].items())
        print(f"converted with {manifest['converter']} → {model_dir()} ({sizes})")
    else:
        for weights in WEIGHTS:
            print(json.dumps({weights: inspect(model_dir() / weights)}, indent=2))
    return 0
