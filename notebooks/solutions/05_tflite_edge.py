# ruff: noqa: F821 -- measured, failed and exercise come from the notebook's earlier cells
# The levels that fit: small enough, accurate enough, close enough to Keras, answering one-word reviews.
fitting = [
    row["level"]
    for row in measured["levels"]
    if row["bytes"] / 1e3 <= exercise.BUDGET["max_kb"]
    and row["keras_test_accuracy"] - row["test_accuracy"] <= exercise.BUDGET["max_accuracy_drop"]
    and row["max_abs_diff"] <= exercise.BUDGET["max_abs_diff"]
    and failed.loc[1, row["level"]] == 0
]
print("fits the budget:", fitting)
choice = fitting[0]
