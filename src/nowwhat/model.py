"""The classifier: a text vectorizer (string ops) in front of a small, portable core model (integer ids).

The split matters for deployment: TF Serving and Flask run the whole thing on raw text, while TF.js and
LiteRT cannot run string ops and get only the core, with the tokenizer re-implemented in the client.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from nowwhat.data import LABELS, Splits

VOCAB_SIZE = 20_000
SEQUENCE_LENGTH = 600
NGRAMS = 2
STANDARDIZE = "lower_and_strip_punctuation"


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 30
    batch_size: int = 32
    embedding_dim: int = 16
    learning_rate: float = 5e-3
    patience: int = 3
    seed: int = 42


@dataclass
class Trained:
    vectorizer: object
    core: object
    history: dict = field(default_factory=dict)
    seconds: float = 0.0


def seed_everything(seed: int) -> None:
    """Same seed, same weights: Python, NumPy and TF seeds plus deterministic TF kernels."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def build_vectorizer(texts: list[str]):
    """Lowercase, strip punctuation, split on whitespace, words + word pairs, pad/truncate to 600 ids."""
    import keras
    import tensorflow as tf

    vectorizer = keras.layers.TextVectorization(
        max_tokens=VOCAB_SIZE,
        standardize=STANDARDIZE,
        split="whitespace",
        ngrams=NGRAMS,
        output_mode="int",
        output_sequence_length=SEQUENCE_LENGTH,
        name="vectorizer",
    )
    vectorizer.adapt(tf.constant(texts))
    return vectorizer


def build_core(vocab_size: int, embedding_dim: int):
    """Mean of the embeddings of the real (non-padding) tokens → softmax.

    The mean is written out (sum over tokens / max(count, 1)) rather than using Keras masking, so a text
    with no tokens at all gets the output layer's bias alone (the model's answer without evidence)
    instead of 0/0 = NaN, and the graph uses only ops that TF.js and LiteRT run natively.
    """
    import keras
    from keras import ops

    ids = keras.Input(shape=(SEQUENCE_LENGTH,), dtype="int32", name="token_ids")
    real = ops.expand_dims(ops.cast(ops.not_equal(ids, 0), "float32"), -1)
    vectors = keras.layers.Embedding(vocab_size, embedding_dim, name="embedding")(ids)
    mean = ops.sum(vectors * real, axis=1) / ops.maximum(ops.sum(real, axis=1), 1.0)
    probabilities = keras.layers.Dense(len(LABELS), activation="softmax", name="probabilities")(mean)
    return keras.Model(ids, probabilities, name="core")


def train(splits: Splits, config: TrainConfig = TrainConfig(), verbose: int = 2) -> Trained:
    """Fit on train, early-stop on validation (never on test). Returns the vectorizer and core model."""
    import keras
    import tensorflow as tf

    seed_everything(config.seed)
    start = time.perf_counter()
    vectorizer = build_vectorizer(splits.texts("train"))

    def dataset(split: str, shuffle: bool):
        ids = tf.cast(vectorizer(tf.constant(splits.texts(split))), tf.int32)
        ds = tf.data.Dataset.from_tensor_slices((ids, splits.label_ids(split)))
        if shuffle:  # reshuffled every epoch, from the seed
            ds = ds.shuffle(len(ids), seed=config.seed)
        return ds.batch(config.batch_size)

    core = build_core(vectorizer.vocabulary_size(), config.embedding_dim)
    core.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    stop = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=config.patience, restore_best_weights=True
    )
    history = core.fit(
        dataset("train", shuffle=True),
        validation_data=dataset("validation", shuffle=False),
        epochs=config.epochs,
        shuffle=False,  # the dataset shuffles itself; this only silences Keras' warning
        callbacks=[stop],
        verbose=verbose,
    )
    return Trained(vectorizer, core, history.history, time.perf_counter() - start)


def assemble(vectorizer, core):
    """The end-to-end Keras model: raw text in, probabilities out. The reference every runtime matches."""
    import keras

    text = keras.Input(shape=(), dtype="string", name="text")
    ids = keras.ops.cast(vectorizer(text), "int32")
    return keras.Model(text, core(ids), name="classifier")
