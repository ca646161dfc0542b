"""The closing summary of the main job: what was built, how good it is, where it is, what next."""

from __future__ import annotations

import json

from nowwhat.paths import build_dir, data_dir, export_dir, model_dir


def summary() -> str:
    lines = ["", "=== I have a model, now what?! — workshop build summary ==="]
    manifest = model_dir() / "manifest.json"
    if manifest.exists():
        trained = json.loads(manifest.read_text())
        test = trained["metrics"]["test"]
        lines.append(
            f"model: test accuracy {test['accuracy']:.3f}, macro-F1 {test['macro_f1']:.3f} "
            f"on {test['n']} held-out reviews (trained in {trained['train_seconds']} s)"
        )
    else:
        lines.append("model: not trained yet (python -m nowwhat train)")
    lines.append("artifacts:")
    for name, path in (
        ("data", data_dir()),
        ("trained model", model_dir()),
        ("exports", export_dir()),
        ("executed notebooks", build_dir() / "notebooks"),
    ):
        state = "" if path.exists() else "  (missing)"
        lines.append(f"  {name:<20}{path}{state}")
    for extra in sorted(build_dir().glob("*/manifest.json")):
        if extra.parent not in (data_dir(), model_dir(), export_dir()):
            lines.append(f"  {extra.parent.name:<20}{extra.parent}")
    lines.append("next: `make lab` opens JupyterLab on the notebooks (http://127.0.0.1:8888)")
    return "\n".join(lines)
