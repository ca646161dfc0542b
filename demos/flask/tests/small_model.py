"""A model that is not the workshop's, made here in seconds: another name, three labels, the contract of
review_model.py (conftest.py serves it to every test in this folder)."""

from __future__ import annotations

import json
from pathlib import Path

DEMO = Path(__file__).resolve().parents[1]

NAME = "sentiment"
LABELS = ["negative", "neutral", "positive"]
EXAMPLES = [
    ("awful stale coffee", 0), ("broken and bad", 0), ("terrible taste, never again", 0),
    ("it is a tea", 1), ("arrived on tuesday", 1), ("the box is brown", 1),
    ("lovely rich coffee", 2), ("great tea, love it", 2), ("best snack ever", 2),
]


def export(folder: Path, version: int, labels=LABELS, output="probabilities") -> dict[str, list[float]]:
    """Train a tiny text classifier, save it as <folder>/serving/<NAME>/<version>/ with a manifest, and
    return Keras' own probabilities for the training texts (what the API must answer)."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    texts = [text for text, _ in EXAMPLES]
    vectorizer = keras.layers.TextVectorization(output_mode="int", output_sequence_length=8)
    vectorizer.adapt(texts)
    classifier = keras.Sequential([
        keras.Input(shape=(1,), dtype="string"),
        vectorizer,
        keras.layers.Embedding(vectorizer.vocabulary_size(), 8),
        keras.layers.GlobalAveragePooling1D(),
        keras.layers.Dense(len(LABELS), activation="softmax"),
    ])
    classifier.compile("adam", "sparse_categorical_crossentropy")
    classifier.fit(tf.constant(texts)[:, None], tf.constant([y for _, y in EXAMPLES]), epochs=5, verbose=0)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    def serve(text):
        return {output: classifier(text[:, None])}

    module = tf.Module()
    module.classifier = classifier
    path = folder / "serving" / NAME / str(version)
    tf.saved_model.save(module, str(path), signatures={"serving_default": serve})
    manifest = {"model_name": NAME, "labels": list(labels), "metrics": {"test": {"accuracy": 1.0, "n": 9}}}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    probabilities = classifier.predict(tf.constant(texts)[:, None], verbose=0).tolist()
    return dict(zip(texts, probabilities, strict=True))
