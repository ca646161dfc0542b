"""Has what the model sees, or what it answers, moved away from what it was trained and tested on?

Compares a current sample with a reference sample, feature by feature:
- input features: the text's length in characters, and its share of words the model's vocabulary does
  not have (out-of-vocabulary, from the model's tokenizer.json);
- the prediction distribution: the predicted label and the top probability (the model's confidence).

The prediction log of the review API (demos/flask, PREDICTION_LOG_DIR) holds text length, label and top
probability for every prediction; the out-of-vocabulary share needs the texts themselves
(`text_features`). Labels are not needed: drift is what you can watch before anyone has said which
answers were right.

Each feature gets two numbers:
- a test of "both samples come from the same distribution": Kolmogorov-Smirnov for numbers, chi-square
  for labels (scipy). A p-value under ALPHA (0.01) flags the feature. With four features, the chance
  that at least one is flagged by luck alone on an unshifted sample is at most 4 %;
- the population stability index (PSI), the size of the shift: the sum over bins of
  (current share - reference share) x ln(current share / reference share), with ten bins cut at the
  reference's deciles. Read it as under 0.1 small, 0.1 to 0.25 moderate, over 0.25 large.

    python drift.py REFERENCE CURRENT [--json report.json]

REFERENCE and CURRENT are prediction logs (a folder of predictions-*.jsonl files, or one file). The exit
status is 1 when a feature drifted, so a scheduled job can act on it.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path

import numpy as np
from scipy import stats

ALPHA = 0.01
BINS = 10
#: Feature → "number" or "category".
FEATURES = {"text_chars": "number", "oov_share": "number", "label": "category", "top_probability": "number"}


def read_log(path: Path, since: str | None = None, until: str | None = None) -> dict[str, list]:
    """The log's features, as columns; `since`/`until` (ISO times, the `time` field) bound a window."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path} does not exist: give a prediction log folder or file")
    files = sorted(path.glob("predictions-*.jsonl*")) if path.is_dir() else [path]
    if not files:
        raise ValueError(f"no prediction log in {path} (predictions-*.jsonl)")
    columns: dict[str, list] = {"text_chars": [], "label": [], "top_probability": []}
    for file in files:
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
            try:
                record = json.loads(line)
                if (since and record["time"] < since) or (until and record["time"] >= until):
                    continue
                for name, column in columns.items():
                    column.append(record[name])
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{file}:{number} is not a prediction log line ({exc})") from None
    return columns


def text_features(texts: list[str], tokenizer_spec: dict) -> dict[str, list]:
    """Length and out-of-vocabulary share of each text, with the tokenizer's own standardisation and split
    (its words only; the word pairs would only repeat what the words say)."""
    lowercase = str.maketrans(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz", tokenizer_spec["strip_chars"]
    )
    split = re.compile(f"[{re.escape(tokenizer_spec['split_on'])}]+")
    known = set(tokenizer_spec["vocabulary"][2:])  # 0 is padding, 1 the out-of-vocabulary token
    oov = []
    for text in texts:
        words = [w for w in split.split(text.translate(lowercase)) if w]
        oov.append(sum(w not in known for w in words) / len(words) if words else 1.0)
    return {"text_chars": [len(t) for t in texts], "oov_share": oov}


def psi(reference, current, bins: int = BINS) -> float:
    """Population stability index of a numeric feature, bins at the reference's quantiles."""
    reference, current = np.asarray(reference, float), np.asarray(current, float)
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)))
    edges[0], edges[-1] = -np.inf, np.inf
    return _psi(np.histogram(reference, edges)[0], np.histogram(current, edges)[0])


def psi_categories(reference, current) -> float:
    _, counts = category_counts(reference, current)
    return _psi(*counts)


def category_counts(reference, current) -> tuple[list, np.ndarray]:
    """The categories either sample has, and a 2 x categories table of how often each sample has each."""
    categories = sorted(set(reference) | set(current))
    counts = np.array([[list(sample).count(c) for c in categories] for sample in (reference, current)])
    return categories, counts


def _psi(reference_counts, current_counts) -> float:
    # An empty bin would divide by zero: count it as a tenth of one observation.
    expected = np.maximum(reference_counts, 0.1) / max(reference_counts.sum(), 1)
    actual = np.maximum(current_counts, 0.1) / max(current_counts.sum(), 1)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def compare_feature(kind: str, reference: list, current: list) -> dict:
    if kind == "number":
        test, p_value, size = (
            "Kolmogorov-Smirnov",
            stats.ks_2samp(reference, current).pvalue,
            psi(reference, current),
        )
        summary = {
            "reference_median": float(np.median(reference)),
            "current_median": float(np.median(current)),
        }
    else:
        categories, table = category_counts(reference, current)
        p_value = stats.chi2_contingency(table)[1] if len(categories) > 1 else 1.0
        test, size = "chi-square", _psi(*table)
        summary = {
            "reference_shares": {
                c: int(n) / len(reference) for c, n in zip(categories, table[0], strict=True)
            },
            "current_shares": {c: int(n) / len(current) for c, n in zip(categories, table[1], strict=True)},
        }
    p_value = float(p_value) if not math.isnan(p_value) else 1.0
    return {"test": test, "p_value": p_value, "psi": size, "drifted": p_value < ALPHA, **summary}


def compare(reference: dict[str, list], current: dict[str, list]) -> dict:
    """Every feature both samples have, compared; `drifted` when any feature is."""
    names = [name for name in FEATURES if name in reference and name in current]
    if not names:
        raise ValueError(f"the samples share none of the features {list(FEATURES)}")
    for name in names:
        if len(reference[name]) < 20 or len(current[name]) < 20:
            raise ValueError(
                f"{name}: compare samples of 20 or more (got {len(reference[name])}, {len(current[name])})"
            )
    features = {name: compare_feature(FEATURES[name], reference[name], current[name]) for name in names}
    return {
        "alpha": ALPHA,
        "reference_size": len(reference[names[0]]),
        "current_size": len(current[names[0]]),
        "features": features,
        "drifted": [name for name, result in features.items() if result["drifted"]],
    }


def table(report: dict) -> str:
    lines = [f"{'feature':<16} {'test':<19} {'p-value':>9} {'PSI':>6}  verdict"]
    for name, result in report["features"].items():
        verdict = "DRIFTED" if result["drifted"] else "same"
        lines.append(
            f"{name:<16} {result['test']:<19} {result['p_value']:>9.2g} {result['psi']:>6.3f}  {verdict}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Compare a prediction log with a reference one.")
    parser.add_argument("reference", type=Path, help="the reference log: a folder or a .jsonl file")
    parser.add_argument("current", type=Path, help="the log to check")
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    try:
        report = compare(read_log(args.reference), read_log(args.current))
    except (ValueError, UnicodeDecodeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(table(report))
    print(f"drifted: {', '.join(report['drifted'])}" if report["drifted"] else "no feature drifted")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 1 if report["drifted"] else 0


if __name__ == "__main__":
    sys.exit(main())
