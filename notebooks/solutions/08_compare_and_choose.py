# A worked answer: a recipe site that marks enthusiastic reviews while visitors type them.
my_choice = {
    "application": "a recipe site marks a review as 'great' or 'other' while the visitor types it",
    "central": True,  # one place to update the model for every visitor
    "gpu": False,  # a small text model: any laptop or phone CPU runs it
    "privacy": False,  # the reviews are published anyway
    "distribute": True,  # many visitors, no server bill per prediction
    "runtime": "tfjs",  # what recommend() says for these answers
    "why_not_the_guide": "",
    # What every visitor downloads once: the size of the TF.js model, read off the table above.
    "evidence": {"row": "tfjs-cpu", "column": "size (MB)", "value": 1.29},
}
