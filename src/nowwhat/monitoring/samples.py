"""The samples drift is checked on, all from the review data, none seen in training:
- reference: the validation split (carved from training, never trained on; the vocabulary was adapted
  on the training split only), what "normal" looks like;
- held-out: the test reviews outside the product group below, a sample like the training data;
- shifted: a product group of the same data set, the test reviews of pet food and pet treats (a review
  naming a dog, cat, puppy, kitten, pet or vet), as if the shop opened a pet section.
Each as a DataFrame with the data set's text and label columns."""

from __future__ import annotations

import pandas as pd

from nowwhat.data import TEXT, load_splits

#: How the product group is found: a review that names a pet (case-insensitive, whole words).
PET_WORDS = r"\b(?:dogs?|cats?|pupp(?:y|ies)|kittens?|pets?|vets?)\b"


def is_pet_review(texts: pd.Series) -> pd.Series:
    return texts.str.contains(PET_WORDS, case=False, regex=True)


def samples() -> dict[str, pd.DataFrame]:
    splits = load_splits()
    pets = is_pet_review(splits.test[TEXT])
    return {
        "reference": splits.validation.reset_index(drop=True),
        "held-out": splits.test[~pets].reset_index(drop=True),
        "shifted": splits.test[pets].reset_index(drop=True),
    }
