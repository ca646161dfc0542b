"""Chapter 01's check (a new hard case for the test vectors): not yet on the starter, right with the
solution, and the sentence a learner gets for the plausible wrong answers."""

import nbformat
import pytest

from nowwhat.exercises.train import EASY_WAYS, SPEC, check_hard_case, encode, tokens
from nowwhat.export import HARD_CASES
from nowwhat.tokenizer import Tokenizer
from nowwhat.tokenizer import tokens as spec_tokens
from nowwhat.workshop.notebooks import NOTEBOOKS

NOTEBOOK = NOTEBOOKS / "01_train.ipynb"


def answer(source: str) -> object:
    scope: dict = {}
    exec(source, scope)
    return scope["my_hard_case"]


def starter() -> object:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    return answer(next(c.source for c in nb.cells if "exercise" in c.metadata.get("tags", [])))


@pytest.fixture(scope="module")
def index(exports):
    vocabulary = Tokenizer.from_spec(exports / "tokenizer" / "tokenizer.json").vocabulary
    return {token: i for i, token in enumerate(vocabulary) if i > 1}


def test_the_spec_written_as_steps_is_the_tokenizer(test_vectors):
    """Each easy way differs from the spec in one step only, so the steps must be the spec."""
    for case in test_vectors:
        assert tokens(case["text"], SPEC) == spec_tokens(case["text"]), case["name"]


def test_every_easy_way_but_unicode_lowercasing_is_caught_by_an_exported_vector(test_vectors, index):
    """What the notebook says: Unicode lowercasing changes tokens of the vectors but none of their ids
    (the vocabulary holds no word with a non-ASCII capital), except with the Kelvin sign K (U+212A)."""
    padded = {c["name"]: (c["ids"] + [0] * 600)[:600] for c in test_vectors}
    for way, steps in EASY_WAYS.items():
        caught = [c["name"] for c in test_vectors if encode(c["text"], steps, index) != padded[c["name"]]]
        assert bool(caught) == (not way.startswith("lowercases all of Unicode")), (way, caught)
    lower = next(steps for way, steps in EASY_WAYS.items() if way.startswith("lowercases"))
    assert any(tokens(c["text"], lower) != tokens(c["text"]) for c in test_vectors)
    assert "\u212a".lower() == "k" and encode("\u212aettle corn", lower, index)[0] == index["kettle"]


def test_the_starter_is_not_yet_right(exports):
    verdict = check_hard_case(starter())
    assert not verdict
    assert verdict.message.startswith("the test vectors already have this text ('empty')")


def test_the_solution_is_right(exports):
    verdict = check_hard_case(answer((NOTEBOOKS / "solutions" / "01_train.py").read_text()))
    assert verdict, verdict
    assert "agree on it" in verdict.message
    assert "splits on the space character only" in verdict.message
    assert "replaces punctuation with a space" in verdict.message


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("Great coffee, I love it!", "every easy-way tokenizer gives the same ids as the spec on this text"),
        ("CAFÉ CRÈME", "a tokenizer that lowercases all of Unicode (str.lower, toLowerCase) gets its tokens "
                       "wrong, but the wrong and the right tokens have the same ids (out of vocabulary)"),
        (HARD_CASES["emoji"], "the test vectors already have this text ('emoji')"),
        (42, "my_hard_case is not a string"),
    ],
    ids=["ordinary-sentence", "out-of-vocabulary-capitals", "copied-vector", "not-a-string"],
)
def test_plausible_wrong_answers_get_one_sentence_saying_what_is_wrong(exports, text, sentence):
    verdict = check_hard_case(text)
    assert not verdict and verdict.message.startswith(sentence), verdict


def test_each_easy_way_is_named_when_caught(exports):
    examples = {
        "lowercases all of Unicode": "\u212aettle corn",  # the Kelvin sign lowercases to an ASCII k
        "splits on every Unicode space": "GREAT\u00a0coffee",
        "splits on the space character only": "Great coffee.  Love it",
        "deletes all but letters, digits and spaces": "so good 😍",
        "replaces punctuation with a space": "Won't re-order",
        "keeps the last 600 ids": "good " * 400,
    }
    for way, text in examples.items():
        verdict = check_hard_case(text)
        assert verdict and way in verdict.message, (way, verdict)
