"""Node's own test runner checks the JavaScript tokenizer against every shared test vector."""

import os
import re
import subprocess

from nowwhat.paths import tokenizer_dir
from nowwhat.tfjs.browser import DEMO_DIR


def run_node_tests(model_dir):
    """`npm test`'s command; it reads only tokenizer.json and test_vectors.json of the model folder, so
    the export's tokenizer folder will do."""
    return subprocess.run(
        ["node", "--test", "test/"],
        cwd=DEMO_DIR,
        env={"PATH": os.environ["PATH"], "MODEL_DIR": str(model_dir)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_js_tokenizer_matches_tensorflow_on_every_vector(test_vectors):
    result = run_node_tests(tokenizer_dir())
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert re.search(r"^# fail 0$", result.stdout, re.M)
    passed = {
        m.group(1)
        for m in re.finditer(r"^\s*ok \d+ - encodes (\S+) exactly as TensorFlow$", result.stdout, re.M)
    }
    assert passed == {case["name"] for case in test_vectors}
    assert len(test_vectors) >= 64


def test_missing_vectors_fail_loudly_with_the_fix(tmp_path):
    result = run_node_tests(tmp_path)
    assert result.returncode != 0
    assert "npm run build-model" in result.stdout + result.stderr
