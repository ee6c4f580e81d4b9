"""
======================================
Quick start: ART on long-tailed digits
======================================

This example trains :class:`~skart.ARTClassifier` on a long-tailed version
of scikit-learn's handwritten digits and compares it with the same network
trained without ART (``art=False``: plain shuffling of the same training
fold). It then draws the three displays that show what ART did during
training.
"""

# %%
# A long-tailed training set
# --------------------------
# The digits data set is balanced (about 180 images per digit). We keep a
# balanced test set, and subsample the training part so that the number of
# images per digit decays exponentially, from 125 for digit 0 down to 6 for
# digit 9 (an imbalance ratio of 20). This is how long-tailed benchmarks such
# as CIFAR-LT and MNIST-LT are built; :func:`skart.datasets.make_long_tailed`
# does the subsampling.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.metrics import balanced_accuracy_score, f1_score, recall_score
from sklearn.model_selection import train_test_split

from skart import (
    ARTClassifier,
    ClassScoresDisplay,
    LossCurveDisplay,
    SamplingDistributionDisplay,
)
from skart.datasets import make_long_tailed

X, y = load_digits(return_X_y=True)
X = X / 16.0  # pixels in [0, 1]
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)
X_train, y_train = make_long_tailed(
    X_train, y_train, imbalance_factor=0.05, random_state=0
)
print("training images per digit:", np.bincount(y_train))
print("test images per digit:    ", np.bincount(y_test))

# %%
# ART against the same network without ART
# ----------------------------------------
# Both models are the default :class:`~skart.MLP` with AdamW (learning rate
# ``1e-2``), cosine learning-rate decay and early stopping on a stratified
# validation fold of 15 % of the training set. The only difference is how
# the training batches are drawn: ART re-weights the classes every ``bf``
# epochs from their F1 score on the validation fold. Neural networks depend
# on their random initialisation, so each model is trained with five seeds.
#
# The macro-averaged F1 weighs every digit equally, whatever its frequency
# in the training set; the worst-class recall shows how the rarest digits
# fare.
rows = []
for seed in range(5):
    for name, art in [("ART", True), ("no ART", False)]:
        clf = ARTClassifier(art=art, c=0.5, bf=2, lr=1e-2, random_state=seed)
        y_pred = clf.fit(X_train, y_train).predict(X_test)
        rows.append(
            {
                "model": name,
                "seed": seed,
                "macro-F1": f1_score(y_test, y_pred, average="macro"),
                "balanced accuracy": balanced_accuracy_score(y_test, y_pred),
                "worst-class recall": recall_score(y_test, y_pred, average=None).min(),
                "epochs": clf.n_iter_,
            }
        )
results = pd.DataFrame(rows)
summary = results.drop(columns="seed").groupby("model").agg(["mean", "std"])
summary.round(3)

# %%
# What ART did during training
# ----------------------------
# We refit ART once and look at its training history with the three
# displays. Each one has ``from_estimator`` and ``from_history`` constructors
# and draws on a given matplotlib ``Axes``.
#
# * :class:`~skart.SamplingDistributionDisplay`: the share of each digit in
#   the training batches, epoch by epoch. Training starts from
#   ``c * prior + (1 - c) * uniform``; white lines mark the epochs at whose
#   end ART refreshed the distribution from the validation scores.
# * :class:`~skart.ClassScoresDisplay`: the F1 score of each digit on the
#   validation fold, with the digit's share of the training fold dashed.
# * :class:`~skart.LossCurveDisplay`: the training and validation losses; the
#   circle marks the epoch whose weights early stopping restored.
clf = ARTClassifier(c=0.5, bf=2, lr=1e-2, random_state=0).fit(X_train, y_train)

fig, axes = plt.subplots(3, 1, figsize=(8, 10), layout="constrained")
SamplingDistributionDisplay.from_estimator(clf, ax=axes[0])
ClassScoresDisplay.from_estimator(clf, ax=axes[1])
LossCurveDisplay.from_estimator(clf, ax=axes[2])
axes[0].set_title("Sampling distribution")
axes[1].set_title("Per-class validation F1")
axes[2].set_title("Loss")
plt.show()

# %%
# The rare digits (the top bands) start with far more than their prior share
# of the batches. Digits 6 and 7 lose most of it as their validation F1
# climbs to 1. Digits 8 and 9 have a single validation image each; the
# network never gets it right, their F1 stays at 0, and ART keeps drawing
# about a fifth of every batch from each of them, repeating their 8 and 5
# training images many times per epoch. With so few validation rows a
# class's score is all or nothing: a larger ``validation_fraction`` or ``c``
# tempers this (see the :ref:`user guide <user_guide>`).
#
# The training loss is measured on the resampled batches, so it is not
# comparable with the validation loss, which is measured on the natural
# class mix.
#
# The end of training is summarised by the fitted attributes:
pd.DataFrame(
    {
        "training rows": clf.class_counts_,
        "prior": clf.class_counts_ / clf.class_counts_.sum(),
        "final sampling share": clf.sampling_distribution_,
    },
    index=pd.Index(clf.classes_, name="digit"),
).round(3)
