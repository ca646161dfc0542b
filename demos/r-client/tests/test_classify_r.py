"""The R client's command line against the stand-in API (conftest.py): what it sends, what it prints,
and one `error:` line (status 2, no R traceback) for every problem."""

from __future__ import annotations

import json
import shutil

import pytest

from conftest import DEMO, made_up, rscript


def printed(done) -> list[dict]:
    assert done.returncode == 0, done.stderr.decode()
    return [json.loads(line) for line in done.stdout.decode().splitlines()]


def one_error(done, says: str) -> str:
    err = done.stderr.decode()
    assert done.returncode == 2 and done.stdout == b"" and "Execution halted" not in err, err
    assert err.startswith("error: ") and err.count("\n") == 1 and says in err, err
    return err


def test_each_review_gets_one_line_with_the_api_s_answer(api):
    reviews = ["Great coffee, will buy again!", "Stale and overpriced."]
    assert printed(rscript("--url", api.url, *reviews)) == [made_up(text) for text in reviews]
    assert api.received == [{"texts": reviews}]


def test_hostile_text_arrives_unchanged(api):
    reviews = ['He said "great" \\o/ {"texts": []}', "Crème brûlée 🍮 Σοφία", "tab\there", "x" * 20_000]
    printed(rscript("--url", api.url, *reviews))
    assert api.received == [{"texts": reviews}]


def test_a_file_is_sent_in_batches_of_64_in_order(api, tmp_path):
    lines = [f"review {i} is {'great' if i % 3 else 'bad'}" for i in range(130)]
    (tmp_path / "reviews.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    answers = printed(rscript("--url", api.url, "--file", str(tmp_path / "reviews.txt")))
    assert [len(body["texts"]) for body in api.received] == [64, 64, 2]
    assert answers == [made_up(line) for line in lines]


def test_the_url_can_come_from_the_environment_and_the_folder_copied_anywhere(api, tmp_path):
    shutil.copy(DEMO / "classify.R", tmp_path / "classify.R")
    assert len(printed(rscript("great", cwd=tmp_path, REVIEW_API_URL=api.url + "/"))) == 1


def test_the_api_s_explanation_is_the_error(api):
    one_error(rscript("--url", api.url, "fine", "  "), "the API answered 422: texts[1] is empty")


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        ((500, "<html>oops</html>"), "the API answered 500: Server error: (500) Internal Server Error"),
        ((200, {"unexpected": True}), "no predictions in the answer"),
        ((200, "not json"), "no predictions in the answer"),
    ],
    ids=["500-not-json", "no-predictions", "200-not-json"],
)
def test_an_answer_it_cannot_use_is_one_line(api, answer, says):
    api.fail_with = answer
    one_error(rscript("--url", api.url, "great"), says)


def test_no_api_no_reviews_no_file_are_one_line(api, tmp_path):
    one_error(rscript("--url", "http://127.0.0.1:9", "great"), "cannot reach the API at http://127.0.0.1:9")
    one_error(rscript("--url", api.url), "nothing to classify")
    one_error(rscript("--url", api.url, "--file", str(tmp_path / "missing.txt")), "cannot read")
    one_error(rscript("--url"), "--url needs a value")
    (tmp_path / "latin1.txt").write_bytes("fine\ncaf\xe9\n".encode("latin-1"))
    one_error(rscript("--url", api.url, "--file", str(tmp_path / "latin1.txt")), "line 2 of")
    assert api.received == []  # nothing was sent
