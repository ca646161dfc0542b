"""The TF.js demo is a template: copied alone into an empty folder, its own convert.py turns a model that
is not the workshop's (another name, three labels, another sequence length) into the model folder, its
`npm test` checks the JavaScript tokenizer on that model's vectors, and in headless Chromium its page
shows that model's labels with Keras' probabilities. What the demo README's "Your own model" says."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from nowwhat.export import tokenizer_spec
from nowwhat.paths import REPO_ROOT
from nowwhat.tfjs.browser import DEMO_DIR, DemoServer, chromium, open_demo, predict, type_review

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

LABELS = ["negative", "neutral", "positive"]
LENGTH = 12
EXAMPLES = [
    ("awful stale coffee", 0), ("broken and bad", 0), ("terrible taste, never again", 0),
    ("it is a tea", 1), ("arrived on tuesday", 1), ("the box is brown", 1),
    ("lovely rich coffee", 2), ("great tea, love it", 2), ("best snack ever", 2),
]
CONVERTER = REPO_ROOT / ".venv-tfjs" / "bin" / "tensorflowjs_converter"


def make_model(folder) -> list[list[float]]:
    """core/ (int32 ids [None, LENGTH] → probabilities [None, 3]) and tokenizer/ (the spec with this
    model's vocabulary, labels and length; test vectors from the TensorFlow layer). Returns Keras'
    probabilities for the example texts."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(3)
    texts = [text for text, _ in EXAMPLES]
    vectorizer = keras.layers.TextVectorization(
        standardize="lower_and_strip_punctuation", ngrams=2, output_sequence_length=LENGTH
    )
    vectorizer.adapt(texts)
    ids = vectorizer(tf.constant(texts)).numpy().astype("int32")
    core = keras.Sequential([
        keras.Input(shape=(LENGTH,), dtype="int32"),
        keras.layers.Embedding(vectorizer.vocabulary_size(), 8),
        keras.layers.GlobalAveragePooling1D(),
        keras.layers.Dense(len(LABELS), activation="softmax"),
    ])
    core.compile("adam", "sparse_categorical_crossentropy")
    core.fit(ids, np.array([y for _, y in EXAMPLES]), epochs=150, verbose=0)
    archive = keras.export.ExportArchive()
    archive.track(core)
    archive.add_endpoint(
        "serving_default",
        tf.function(lambda token_ids: {"probabilities": core(token_ids)},
                    input_signature=[tf.TensorSpec([None, LENGTH], tf.int32, name="token_ids")]),
    )
    archive.write_out(str(folder / "core"), verbose=False)
    tokenizer = folder / "tokenizer"
    tokenizer.mkdir()
    spec = {**tokenizer_spec(vectorizer.get_vocabulary()), "labels": LABELS, "sequence_length": LENGTH}
    (tokenizer / "tokenizer.json").write_text(json.dumps(spec))
    vectors = [
        {"name": f"example_{i}", "text": text, "ids": [int(x) for x in row[: np.count_nonzero(row)]]}
        for i, (text, row) in enumerate(zip(texts, ids, strict=True))
    ]
    (tokenizer / "test_vectors.json").write_text(json.dumps(vectors))
    return core.predict(ids, verbose=0).tolist()


@pytest.fixture(scope="module")
def copy(tmp_path_factory):
    """The demo copied alone (its npm install linked, not fetched again) with the model converted by its
    own convert.py into model/, and Keras' answers."""
    if not CONVERTER.exists():
        pytest.fail(f"{CONVERTER} is missing: run `make setup-tfjs`")
    root = tmp_path_factory.mktemp("second")
    expected = make_model(root)
    demo = root / "tfjs"
    shutil.copytree(DEMO_DIR, demo, ignore=shutil.ignore_patterns("node_modules", "model", "screenshot.png"))
    (demo / "node_modules").symlink_to(DEMO_DIR / "node_modules")
    done = subprocess.run(
        [sys.executable, "convert.py", "--saved-model", root / "core", "--tokenizer", root / "tokenizer"],
        cwd=demo, capture_output=True, text=True, timeout=600,
        env={**os.environ, "TFJS_CONVERTER": str(CONVERTER)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith(f"wrote {demo / 'model'}: float32 ") and str(LABELS) in done.stdout
    return demo, expected


def test_convert_writes_the_model_folder_with_this_model_s_labels(copy):
    demo, _ = copy
    manifest = json.loads((demo / "model" / "manifest.json").read_text())
    assert manifest["labels"] == LABELS and set(manifest["bytes"]) == {"float32", "float16"}
    for name in ("float32/model.json", "float16/model.json", "tokenizer.json", "test_vectors.json"):
        assert (demo / "model" / name).is_file(), name


def test_npm_test_checks_the_tokenizer_on_this_model_s_vectors(copy):
    demo, _ = copy
    done = subprocess.run(["npm", "test"], cwd=demo, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:]
    passed = set(re.findall(r"^\s*ok \d+ - encodes (\S+) exactly as TensorFlow$", done.stdout, re.M))
    assert passed == {f"example_{i}" for i in range(len(EXAMPLES))}
    assert re.search(r"^# fail 0$", done.stdout, re.M)


def test_the_page_shows_this_model_s_labels_with_keras_probabilities(copy):
    demo, expected = copy
    texts = [text for text, _ in EXAMPLES]
    with DemoServer(folder=demo, model_dir=demo / "model") as server, chromium() as browser:
        page, traffic = open_demo(browser, server.url)
        try:
            np.testing.assert_allclose(predict(page, texts), expected, atol=1e-4)
            type_review(page, texts[-1])
            assert page.locator("#label").inner_text() == LABELS[int(np.argmax(expected[-1]))]
            assert page.locator("#bars label").all_inner_texts() == LABELS
        finally:
            page.context.close()
    assert traffic.off_machine == [] and traffic.console_errors == []


def test_a_model_that_is_not_there_is_one_line(copy, tmp_path):
    demo, _ = copy
    done = subprocess.run(
        [sys.executable, "convert.py", "--saved-model", str(tmp_path / "none"), "--tokenizer", str(tmp_path),
         "--out", str(tmp_path / "out")],
        cwd=demo, capture_output=True, text=True, timeout=60,
        env={**os.environ, "TFJS_CONVERTER": str(CONVERTER)},
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: no SavedModel at ") and not (tmp_path / "out").exists()
