"""A classical reference point: TF-IDF over words and word pairs + logistic regression."""

from __future__ import annotations

from nowwhat.data import Splits
from nowwhat.metrics import classification_metrics


def tfidf_logreg(splits: Splits, seed: int = 42) -> dict:
    """Fit on train, score on test. If the neural model cannot beat this, something is wrong."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    pipeline = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
        LogisticRegression(C=10, max_iter=1000, random_state=seed),
    )
    pipeline.fit(splits.texts("train"), splits.label_ids("train"))
    return classification_metrics(splits.label_ids("test"), pipeline.predict_proba(splits.texts("test")))
