# ruff: noqa: F821 -- MAX_WORDS, create_app and model come from the notebook's earlier cells
def at_most_max_words(text):
    """Refuse a review the model would not read in full. None accepts it; a sentence refuses it (422)."""
    words = len(text.split())  # any whitespace: spaces, tabs, line breaks
    if words > MAX_WORDS:
        return f"has {words:,} words; the model reads at most {MAX_WORDS} in full: shorten it"
    return None


def test_a_review_over_the_limit_is_refused(client):
    """Your test: `client` is Flask's test client of an app; it must pass on yours, fail without your rule."""
    assert client.post("/v1/predict", json={"text": "Lovely tea."}).status_code == 200
    assert client.post("/v1/predict", json={"text": "good " * MAX_WORDS}).status_code == 200
    answer = client.post("/v1/predict", json={"text": "good " * (MAX_WORDS + 1)})
    assert answer.status_code == 422 and answer.mimetype == "application/problem+json"
    assert f"at most {MAX_WORDS}" in answer.get_json()["detail"]


app = create_app(model, rules=[at_most_max_words])  # the app factory, with your rule registered
