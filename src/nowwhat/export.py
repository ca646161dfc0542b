"""Everything the deployment chapters consume, written under <build>/export:

- serving/reviews/<version>/  SavedModel, TF Serving layout; signature `serving_default`:
                              `text` (string [None]) → `probabilities`, `label_id`, `label`
- core/saved_model/           SavedModel of the integer-id core: `token_ids` (int32 [None, 600]) →
                              `probabilities` (for the TF.js and LiteRT converters)
- tokenizer/                  tokenizer.json (rules + vocabulary), tokenizer.py (plain-Python reference),
                              test_vectors.json (text → ids → Keras probabilities, hard cases included)
- labels.json, manifest.json
"""

from __future__ import annotations

import shutil
from pathlib import Path

from nowwhat import tokenizer as tok
from nowwhat.artifacts import read_manifest, staged, write_json, write_manifest
from nowwhat.data import LABELS, load_splits
from nowwhat.errors import NowWhatError
from nowwhat.model import NGRAMS, SEQUENCE_LENGTH
from nowwhat.paths import MODEL_NAME, export_dir, model_dir
from nowwhat.training import CORE_FILE, load_trained, predict

REBUILD = "python -m nowwhat export"

#: Hard cases for every re-implementation of the tokenizer; the test split adds ordinary reviews.
HARD_CASES = {
    "empty": "",
    "whitespace_only": " \t\n ",
    "punctuation_run": "Great!!!...??? Really,,, great;;; (yes) -- 'best' \"ever\"",
    "tabs_newlines": "line one\tcolumn\nline two\r\nline three\x0bvertical\x0cfeed",
    "non_ascii_letters": "ÉCOLE Crème BRÛLÉE Straße ΣΟΦΙΑ café über naïve",
    "non_ascii_spaces": "no\u00a0break\u2003em\u3000ideographic",
    "emoji": "love it 😍😍 so good 👍🏽 five ⭐⭐⭐⭐⭐",
    "html": 'Tasty.<br /><br />Would buy again! <a href="http://x.y/z?q=1&r=2">link</a>',
    "mixed_case": "GREAT Great gReAt great",
    "digits_and_units": "12 oz for $3.99 - 100% worth it, 5/5",
    "unicode_punctuation": "“Smart quotes” — em dash… ellipsis «guillemets»",
    "hyphen_apostrophe": "don't can't won't well-made re-order",
    "unknown_words": "zzqxv flurbnog wibblewobble",
    "long_text": " ".join(["the coffee was good but the price was not"] * 80),
}


def test_vectors(classifier, texts: dict[str, str]) -> list[dict]:
    """Each case: text, ids from the TensorFlow layer (trailing padding dropped), Keras probabilities."""
    import tensorflow as tf

    vectorizer = classifier.get_layer("vectorizer")
    ids = vectorizer(tf.constant(list(texts.values()))).numpy()
    probabilities = predict(classifier, list(texts.values()))
    cases = []
    for (name, text), row, probs in zip(texts.items(), ids, probabilities, strict=True):
        nonzero = row.nonzero()[0]
        length = int(nonzero[-1]) + 1 if len(nonzero) else 0
        cases.append(
            {
                "name": name,
                "text": text,
                "ids": row[:length].tolist(),
                "probabilities": [float(p) for p in probs],
            }
        )
    return cases


def tokenizer_spec(vocabulary: list[str]) -> dict:
    return {
        "spec_version": tok.SPEC_VERSION,
        "rules": tok.__doc__.split("The rules:")[1].split("This file")[0].strip(),
        "lowercase": "ASCII A-Z only",
        "strip_chars": tok.STRIP_CHARS,
        "split_on": tok.WHITESPACE,
        "ngrams": NGRAMS,
        "sequence_length": SEQUENCE_LENGTH,
        "pad_id": tok.PAD_ID,
        "oov_id": tok.OOV_ID,
        "labels": list(LABELS),
        "vocabulary": vocabulary,
    }


def write_serving_model(classifier, path: Path) -> None:
    """Raw text in, named outputs out: the signature TF Serving and Flask clients rely on."""
    import keras
    import tensorflow as tf

    labels = tf.constant(LABELS)
    archive = keras.export.ExportArchive()
    archive.track(classifier)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    def serve(text):
        probabilities = classifier(text, training=False)
        label_id = tf.argmax(probabilities, axis=1, output_type=tf.int32)
        return {"probabilities": probabilities, "label_id": label_id, "label": tf.gather(labels, label_id)}

    archive.add_endpoint("serving_default", serve)
    archive.write_out(str(path), verbose=False)


def write_core_model(core, path: Path) -> None:
    import keras
    import tensorflow as tf

    archive = keras.export.ExportArchive()
    archive.track(core)

    @tf.function(input_signature=[tf.TensorSpec([None, SEQUENCE_LENGTH], tf.int32, name="token_ids")])
    def serve(token_ids):
        return {"probabilities": core(token_ids, training=False)}

    archive.add_endpoint("serving_default", serve)
    archive.write_out(str(path), verbose=False)


def export_all(version: int = 1, out: Path | None = None, vector_reviews: int = 50) -> dict:
    """Write every export from the trained model, atomically. Returns the export manifest."""
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")  # SavedModel writing logs every asset folder at INFO
    out = Path(out or export_dir())
    classifier, core, trained = load_trained()
    splits = load_splits()
    vocabulary = classifier.get_layer("vectorizer").get_vocabulary()
    cases = dict(HARD_CASES)
    cases.update({f"test_review_{i}": t for i, t in enumerate(splits.texts("test")[:vector_reviews])})
    with staged(out) as tmp:
        write_serving_model(classifier, tmp / "serving" / MODEL_NAME / str(version))
        write_core_model(core, tmp / "core" / "saved_model")
        shutil.copy(model_dir() / CORE_FILE, tmp / "core" / CORE_FILE)
        (tmp / "tokenizer").mkdir()
        write_json(tmp / "tokenizer" / "tokenizer.json", tokenizer_spec(vocabulary))
        shutil.copy(tok.__file__, tmp / "tokenizer" / "tokenizer.py")
        write_json(tmp / "tokenizer" / "test_vectors.json", test_vectors(classifier, cases))
        write_json(tmp / "labels.json", list(LABELS))
        manifest = write_manifest(
            tmp,
            "export",
            model_name=MODEL_NAME,
            serving_versions=[version],
            labels=list(LABELS),
            data_fingerprint=trained["data_fingerprint"],
            trained_model=trained["code_version"],
            metrics=trained["metrics"],
            vocabulary_size=len(vocabulary),
            sequence_length=SEQUENCE_LENGTH,
            test_vectors=len(cases),
            source=str(model_dir()),
        )
    return manifest


def load_export(folder: Path | None = None) -> dict:
    """The export manifest, checked against this code's contract."""
    return read_manifest(Path(folder or export_dir()), "export", REBUILD)


def describe_signature(saved_model: Path, name: str = "serving_default") -> dict:
    """Inputs and outputs of a SavedModel signature as {name: 'dtype shape'}, like `saved_model_cli show`."""
    import tensorflow as tf

    fn = tf.saved_model.load(str(saved_model)).signatures[name]

    def fmt(spec):
        return f"{spec.dtype.name} {spec.shape.as_list()}"

    return {
        "inputs": {key: fmt(spec) for key, spec in sorted(fn.structured_input_signature[1].items())},
        "outputs": {key: fmt(spec) for key, spec in sorted(fn.structured_outputs.items())},
    }


def ensure_derived(
    folder: Path, kind: str, rebuild: str, build, what: str, verb: str = "converting", in_child: bool = False
) -> dict:
    """The manifest of an artifact derived from the export (a TF.js model, a LiteRT bundle, …), rebuilt by
    `build()` when it is missing or was made from an older export, saying so either way; with `in_child`,
    by its command `rebuild` in a child process instead (built_in_child)."""
    try:
        manifest = read_manifest(folder, kind, rebuild)
        if manifest.get("export_created") == load_export()["created"]:
            return manifest
        print(f"the {what} in {folder} predates the export in {export_dir()}: {verb} again")
    except NowWhatError:
        print(f"no {what} in {folder}: {verb} the exported model")
    return built_in_child(folder, kind, rebuild, what) if in_child else build()


def built_in_child(folder: Path, kind: str, rebuild: str, what: str) -> dict:
    """Run `rebuild` (`python -m nowwhat …`) in a child process, so the caller never imports TensorFlow (a
    notebook kernel that later drives servers and a browser stays about 600 MB smaller: Binder's memory).
    Returns the manifest it wrote."""
    import subprocess
    import sys

    argv = [sys.executable, *rebuild.split()[1:]]
    done = subprocess.run(argv, stderr=subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        last = [line for line in done.stderr.splitlines() if line.strip()][-1:] or ["no message"]
        raise NowWhatError(f"making the {what} failed: {last[0]} (run `{rebuild}`)")
    return read_manifest(folder, kind, rebuild)
