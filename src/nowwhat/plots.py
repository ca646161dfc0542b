"""The figures learners would rather look at than read."""

from __future__ import annotations

from nowwhat.data import LABELS


def training_curves(history: dict):
    """Loss and accuracy per epoch, train vs validation: where it learned and when it stopped."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    epochs = range(1, len(history["loss"]) + 1)
    for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
        ax.plot(epochs, history[metric], "o-", label="train")
        ax.plot(epochs, history[f"val_{metric}"], "o-", label="validation")
        ax.set(xlabel="epoch", ylabel=metric, title=metric)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return fig


def confusion_matrix(matrix, title: str = "test split"):
    """Counts of true label (rows) vs predicted label (columns)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 3.5))
    ax.imshow(matrix, cmap="Blues")
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            color = "white" if count > max(map(max, matrix)) / 2 else "black"
            ax.text(j, i, str(count), ha="center", va="center", color=color, fontsize=12)
    ax.set(
        xticks=range(len(LABELS)),
        yticks=range(len(LABELS)),
        xticklabels=LABELS,
        yticklabels=LABELS,
        xlabel="predicted",
        ylabel="true",
        title=title,
    )
    fig.tight_layout()
    return fig
