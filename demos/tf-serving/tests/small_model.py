"""A model that is not the workshop's, made here in seconds: another name, three labels, two versions
(trained with different seeds, so a label that routes wrong gives different answers)."""

from __future__ import annotations

from pathlib import Path

NAME = "sentiment"
LABELS = ["negative", "neutral", "positive"]
EXAMPLES = [
    ("awful stale coffee", 0), ("broken and bad", 0), ("terrible taste, never again", 0),
    ("it is a tea", 1), ("arrived on tuesday", 1), ("the box is brown", 1),
    ("lovely rich coffee", 2), ("great tea, love it", 2), ("best snack ever", 2),
]
TEXTS = [text for text, _ in EXAMPLES]


def export(model_dir: Path, version: int) -> list[list[float]]:
    """Train a tiny text classifier (seed = version), save it as <model_dir>/<NAME>/<version>/ with the
    serving signature TF Serving serves (string `text` in, `probabilities` out), and return Keras' own
    probabilities for TEXTS: what the server must answer for that version."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(version)
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
    classifier.fit(tf.constant(TEXTS)[:, None], tf.constant([y for _, y in EXAMPLES]), epochs=40, verbose=0)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    def serve(text):
        return {"probabilities": classifier(text[:, None])}

    module = tf.Module()
    module.classifier = classifier
    tf.saved_model.save(module, str(model_dir / NAME / str(version)), signatures={"serving_default": serve})
    return classifier.predict(tf.constant(TEXTS)[:, None], verbose=0).tolist()
