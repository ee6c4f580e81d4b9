"""
================================
A small CNN on long-tailed MNIST
================================

:class:`~skart.ARTClassifier` trains any :class:`torch.nn.Module` that
returns logits. This example trains a small convolutional network on
MNIST-LT, the long-tailed MNIST of the ART paper: digit 0 keeps 1500
training images, and each following digit fewer, down to 15 images of digit
9 (an imbalance ratio of 100). The models are tested on the balanced MNIST
test set.

:func:`skart.datasets.fetch_mnist_lt` reads MNIST's four files from the
``mnist`` folder of the data home: the ``SKART_DATA`` environment variable,
or ``~/skart_data`` where they are downloaded on first use.
"""

# %%
# Data
# ----
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from sklearn.metrics import f1_score, recall_score
from torch import nn

from skart import ARTClassifier, SamplingDistributionDisplay
from skart.datasets import fetch_mnist, fetch_mnist_lt

X_train, y_train = fetch_mnist_lt(return_X_y=True)  # (3723, 1, 28, 28) float32
X_test, y_test = fetch_mnist(subset="test", return_X_y=True)  # (10000, 1, 28, 28)
print("training images per digit:", np.bincount(y_train))
print("test images per digit:    ", np.bincount(y_test))

# %%
# The network
# -----------
# A module class whose constructor takes ``n_classes`` (or ``n_features``)
# receives it from the data at ``fit``; its other parameters are set with the
# ``module__`` prefix. Images keep their shape ``(n, 1, 28, 28)``: the
# classifier accepts n-dimensional arrays.


class SmallCNN(nn.Module):
    """Two convolution blocks and a two-layer head."""

    def __init__(self, n_classes, channels=8):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, channels, 3),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (C, 13, 13)
            nn.Conv2d(channels, 2 * channels, 3),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (2C, 5, 5)
            nn.Flatten(),
        )
        self.head = nn.Sequential(
            nn.Linear(2 * channels * 5 * 5, 64), nn.ReLU(), nn.Linear(64, n_classes)
        )

    def forward(self, X):
        return self.head(self.features(X))


# %%
# ART against the same CNN without ART
# ------------------------------------
# Three seeds each, 30 epochs at most (early stopping on the validation loss
# restores the best weights). On a GPU, pass ``device="cuda"``: the training
# images are moved to the GPU once and each batch is gathered there by
# indexing, so no data loader workers are needed.
device = "cuda" if torch.cuda.is_available() else "cpu"
rows, recalls = [], {}
for seed in range(3):
    for name, art in [("ART", True), ("no ART", False)]:
        clf = ARTClassifier(
            SmallCNN,
            art=art,
            c=0.5,
            bf=2,
            lr=3e-3,
            max_epochs=30,
            batch_size=128,
            device=device,
            random_state=seed,
        ).fit(X_train, y_train)
        y_pred = clf.predict(X_test)
        rows.append(
            {
                "model": name,
                "seed": seed,
                "epochs": clf.n_iter_,
                "macro-F1": f1_score(y_test, y_pred, average="macro"),
                "accuracy": np.mean(y_pred == y_test),
            }
        )
        recalls.setdefault(name, []).append(recall_score(y_test, y_pred, average=None))
        if art and seed == 0:
            art_clf = clf
results = pd.DataFrame(rows)
results.drop(columns="seed").groupby("model").agg(["mean", "std"]).round(3)

# %%
# Per-digit recall on the test set
# --------------------------------
# Averaged over the seeds. The head digits are recognised either way; the
# difference lies in the tail.
fig, ax = plt.subplots(figsize=(8, 3.6), layout="constrained")
digits = np.arange(10)
for offset, (name, color) in zip((-0.2, 0.2), [("no ART", "0.6"), ("ART", "C0")]):
    ax.bar(
        digits + offset,
        np.mean(recalls[name], axis=0),
        width=0.4,
        label=name,
        color=color,
    )
ax.set_xticks(digits, [f"{d}\n({n})" for d, n in zip(digits, np.bincount(y_train))])
ax.set(xlabel="digit (training images)", ylabel="test recall", ylim=(0, 1.15))
ax.legend(loc="upper right", ncols=2, frameon=False)
plt.show()

# %%
# How ART sampled the digits
# --------------------------
# The tail digits receive the largest shares of the batches for as long as
# their validation F1 lags behind; with ``c=0.5`` half of the distribution
# stays on the prior, so digit 0 keeps about a fifth of each batch.
SamplingDistributionDisplay.from_estimator(art_clf)
plt.show()
