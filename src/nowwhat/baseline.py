"""A classical reference point: TF-IDF over words and word pairs + logistic regression."""

from __future__ import annotations

from nowwhat.data import Splits
from nowwhat.metrics import classification_metrics


def pipeline(seed: int = 42):
    """The unfitted pipeline. Plain term counts (not `sublinear_tf`): skl2onnx converts this exactly, and
    converts `sublinear_tf=True` wrongly (demos/onnx/README.md)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2),
        LogisticRegression(C=10, max_iter=1000, random_state=seed),
    )


def fit(splits: Splits, seed: int = 42):
    """The pipeline fitted on the training split: the scikit-learn model the serving chapters serve."""
    return pipeline(seed).fit(splits.texts("train"), splits.label_ids("train"))


def tfidf_logreg(splits: Splits, seed: int = 42) -> dict:
    """Fit on train, score on test. If the neural model cannot beat this, something is wrong."""
    probabilities = fit(splits, seed).predict_proba(splits.texts("test"))
    return classification_metrics(splits.label_ids("test"), probabilities)
