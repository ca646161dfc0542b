"""Two models that are not the workshop's, made here in seconds: three labels, another vocabulary.
A Keras text-in SavedModel in the Flask/TF Serving layout, and a scikit-learn text pipeline."""

from __future__ import annotations

import json
from pathlib import Path

NAME = "sentiment"
LABELS = ["negative", "neutral", "positive"]
EXAMPLES = [
    ("awful stale coffee", 0), ("broken and bad", 0), ("terrible taste, never again", 0),
    ("it is a tea", 1), ("arrived on tuesday", 1), ("the box is brown", 1),
    ("lovely rich coffee", 2), ("great tea, love it", 2), ("best snack ever", 2),
]
TEXTS = [text for text, _ in EXAMPLES]


def make_keras(folder: Path) -> dict[str, list[float]]:
    """<folder>/manifest.json + serving/<NAME>/1/; returns Keras' own probabilities per text."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    vectorizer = keras.layers.TextVectorization(output_mode="int", output_sequence_length=8)
    vectorizer.adapt(TEXTS)
    classifier = keras.Sequential([
        keras.Input(shape=(1,), dtype="string"),
        vectorizer,
        keras.layers.Embedding(vectorizer.vocabulary_size(), 8),
        keras.layers.GlobalAveragePooling1D(),
        keras.layers.Dense(len(LABELS), activation="softmax"),
    ])
    classifier.compile("adam", "sparse_categorical_crossentropy")
    classifier.fit(tf.constant(TEXTS)[:, None], tf.constant([y for _, y in EXAMPLES]), epochs=5, verbose=0)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    def serve(text):
        return {"probabilities": classifier(text[:, None])}

    module = tf.Module()
    module.classifier = classifier
    tf.saved_model.save(module, str(folder / "serving" / NAME / "1"), signatures={"serving_default": serve})
    (folder / "manifest.json").write_text(json.dumps({"model_name": NAME, "labels": LABELS}))
    probabilities = classifier.predict(tf.constant(TEXTS)[:, None], verbose=0).tolist()
    return dict(zip(TEXTS, probabilities, strict=True))


def make_sklearn(path: Path):
    """A fitted TF-IDF + logistic regression pipeline saved with joblib at `path`; returns it."""
    import joblib
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    pipeline = make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000))
    pipeline.fit(TEXTS, [y for _, y in EXAMPLES])
    joblib.dump(pipeline, path)
    return pipeline
