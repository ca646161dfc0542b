"""Classification metrics, computed the same way for every runtime."""

from __future__ import annotations

import numpy as np

from nowwhat.data import LABELS


def classification_metrics(y_true, probabilities) -> dict:
    """Accuracy, macro-F1 and the confusion matrix (rows: true label, columns: predicted)."""
    from sklearn.metrics import confusion_matrix, f1_score

    y_true = np.asarray(y_true)
    y_pred = np.asarray(probabilities).argmax(axis=1)
    return {
        "accuracy": round(float((y_pred == y_true).mean()), 4),
        "macro_f1": round(float(f1_score(y_true, y_pred, average="macro")), 4),
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=range(len(LABELS))).tolist(),
        "n": len(y_true),
    }


def agreement(reference, other) -> dict:
    """How closely two runtimes agree: share of identical labels and the largest probability gap."""
    reference, other = np.asarray(reference, dtype=np.float64), np.asarray(other, dtype=np.float64)
    return {
        "same_label": float((reference.argmax(1) == other.argmax(1)).mean()),
        "max_abs_diff": float(np.abs(reference - other).max()),
    }


def mistakes(texts, y_true, probabilities, n: int = 5, width: int = 160):
    """The n most confident wrong predictions: the reviews worth reading to understand the model."""
    import pandas as pd

    probabilities = np.asarray(probabilities)
    frame = pd.DataFrame(
        {
            "review": [t if len(t) <= width else t[: width - 1] + "…" for t in texts],
            "true": [LABELS[i] for i in y_true],
            "predicted": [LABELS[i] for i in probabilities.argmax(1)],
            "confidence": probabilities.max(1).round(3),
        }
    )
    return frame[frame.true != frame.predicted].sort_values("confidence", ascending=False).head(n)
