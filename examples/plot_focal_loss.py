"""
=====================================
Combining ART with a re-weighted loss
=====================================

Loss-based methods change *how much* each sample counts: a cost-sensitive
cross-entropy weights each class by its inverse frequency, the focal loss
(Lin et al., 2017) down-weights samples the network already classifies
confidently. ART changes *which* samples the network sees. The two act at
different places, so they can be combined: :class:`~skart.ARTClassifier`
takes any criterion, for example those of :mod:`skart.losses`.

This example trains the same network on long-tailed digits with three
criteria, each with and without ART.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

from skart import ARTClassifier
from skart.datasets import make_long_tailed
from skart.losses import CostSensitiveCrossEntropy, FocalLoss

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X / 16.0, y, test_size=0.3, stratify=y, random_state=0
)
# 124 images of digit 0 down to 6 of digit 9; the test set stays balanced.
X_train, y_train = make_long_tailed(
    X_train, y_train, imbalance_factor=0.05, random_state=0
)

# %%
# Criteria
# --------
# A criterion is given as a class, and its parameters with the ``criterion__``
# prefix, as in skorch. Criteria whose constructor takes ``class_counts``
# (here :class:`~skart.losses.CostSensitiveCrossEntropy`) receive the class
# counts of the training fold at ``fit``.
criteria = {
    "cross-entropy": {},
    "cost-sensitive CE": {"criterion": CostSensitiveCrossEntropy},
    "focal (gamma=2)": {"criterion": FocalLoss, "criterion__gamma": 2.0},
}

rows = []
for loss_name, loss_params in criteria.items():
    for art in (False, True):
        for seed in range(5):
            clf = ARTClassifier(
                art=art, c=0.5, bf=2, lr=1e-2, random_state=seed, **loss_params
            ).fit(X_train, y_train)
            rows.append(
                {
                    "loss": loss_name,
                    "ART": "with ART" if art else "without ART",
                    "seed": seed,
                    "macro-F1": f1_score(y_test, clf.predict(X_test), average="macro"),
                }
            )
results = pd.DataFrame(rows)
table = results.pivot_table(
    index="loss", columns="ART", values="macro-F1", aggfunc=["mean", "std"]
)
table.round(3)

# %%
# The same numbers as a grouped bar plot (mean and standard deviation over
# five seeds):
mean = results.groupby(["loss", "ART"])["macro-F1"].mean().unstack()
std = results.groupby(["loss", "ART"])["macro-F1"].std().unstack()
mean = mean.loc[list(criteria), ["without ART", "with ART"]]
std = std.loc[list(criteria), ["without ART", "with ART"]]

fig, ax = plt.subplots(figsize=(7, 3.6), layout="constrained")
pos = np.arange(len(mean))
for offset, column, color in [(-0.2, "without ART", "0.6"), (0.2, "with ART", "C0")]:
    ax.bar(
        pos + offset,
        mean[column],
        width=0.4,
        yerr=std[column],
        capsize=3,
        label=column,
        color=color,
    )
ax.set_xticks(pos, mean.index)
ax.set_ylim(0.5, 1.0)
ax.set_ylabel("test macro-F1")
ax.set_title("Long-tailed digits: losses with and without ART")
ax.legend(loc="upper left", frameon=False)
plt.show()

# %%
# Reading the results
# -------------------
# A class-weighted loss and ART pull in the same direction: both give the
# rare digits more say in the gradient. ART's weights, however, follow the
# validation F1 of each class rather than its count, and they change during
# training. Whether the combination adds anything over either alone depends
# on the data; the comparison costs a few fits and is the reliable way to
# find out. The focal loss addresses a different problem (many easy
# samples drowning a few hard ones) and combines with ART without
# interfering with its class weights.
#
# Other losses of :mod:`skart.losses` plug in the same way: the LDAM loss
# (``criterion=LDAMLoss``) with its deferred re-weighting schedule
# (``callbacks=[DeferredReweighting()]``), the balanced softmax
# (``criterion=BalancedSoftmaxLoss``) or online hard example mining
# (``criterion=OHEMCrossEntropy``).
