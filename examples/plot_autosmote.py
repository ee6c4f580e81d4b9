"""
===================================================
AutoSMOTE: the synthetic points of each aggregation
===================================================

:class:`~skart.over_sampling.AutoSMOTE` is an imbalanced-learn over-sampler
whose decisions are learned: an :class:`~skart.AutoSMOTEClassifier` trains
small decision networks together with its classifier, and the sampler uses
them to choose, for every row of the rare class, whether it seeds synthetic
rows, how many same-class neighbours it uses and how it combines them.

On a two-dimensional data set we can look at the rows each aggregation
makes. Each panel restricts the sampler to one aggregation
(``aggregations=(name,)``); the last one lets the networks choose among all
six and colours each synthetic row by the aggregation that made it.
"""

# %%
# A small two-dimensional imbalanced problem
# ------------------------------------------
# Two interleaved half-moons, the lower one thinned to one row in eight and
# standardised (AutoSMOTE builds points in input space).
from collections import Counter

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import make_moons
from sklearn.preprocessing import StandardScaler

from skart import AutoSMOTEClassifier
from skart.over_sampling import AutoSMOTE

X, y = make_moons(n_samples=400, noise=0.25, random_state=0)
keep = (y == 0) | (np.arange(len(y)) % 8 == 0)
X, y = StandardScaler().fit_transform(X[keep]), y[keep]
print(np.bincount(y))

# %%
# One sampler per aggregation
# ---------------------------
# ``linear`` is SMOTE's interpolation towards one of the ``k`` neighbours;
# ``min`` and ``max`` take the element-wise extremes of the seed and its
# neighbours (corners of their bounding box); ``average`` and ``weighted``
# stay inside their convex hull; ``sum`` adds them up and so leaves the
# data's range, which is why the features should be standardised and why
# ``aggregations`` can leave it out.
#
# The samplers train with the paper's optimiser and rate (Adam at 0.05), under
# which the decisions move within a few epochs; at skart's default training
# (AdamW at 1e-3, chosen on validation folds, see the user guide) they stay
# near their initial, almost uniform, distributions.
names = ["linear", "min", "max", "sum", "average", "weighted"]
paper_training = dict(
    optimizer=torch.optim.Adam, lr=0.05, lr_schedule=None, patience=None
)
panels = [(name, (name,), "bilevel", 3.0) for name in names]
# The two objectives with every aggregation, without the anchor (the pull
# towards SMOTE's decisions, 3 by default), to show what each learns alone.
panels += [
    ("all six, bilevel, no anchor", tuple(names), "bilevel", 0.0),
    ("all six, joint (paper), no anchor", tuple(names), "joint", 0.0),
]
fig, axes = plt.subplots(2, 4, figsize=(13, 6.5))
samplers = {}
for ax, (title, aggregations, objective, anchor) in zip(axes.flat, panels):
    sampler = AutoSMOTE(
        estimator=AutoSMOTEClassifier(
            aggregations=aggregations,
            objective=objective,
            anchor=anchor,
            max_epochs=15,
            **paper_training,
        ),
        random_state=0,
    )
    X_res, y_res = sampler.fit_resample(X, y)
    samplers[title] = sampler
    new = X_res[len(X) :]
    ax.scatter(*X[y == 0].T, s=6, c="lightgray", label="class 0")
    ax.scatter(*X[y == 1].T, s=14, c="black", label="class 1 (rare)")
    if len(aggregations) > 1:
        used = sampler.synthetic_decisions_["aggregation"]
        for i, agg in enumerate(names):
            ax.scatter(*new[used == agg].T, s=8, color=f"C{i}", label=agg)
        ax.legend(fontsize=6, loc="lower left", ncol=2)
    else:
        ax.scatter(*new.T, s=8, c="C3", alpha=0.6, label="synthetic")
    ax.set_title(title, fontsize=10)
axes[0, 0].legend(fontsize=7, loc="lower left")
fig.tight_layout()
plt.show()

# %%
# What the decision networks chose
# --------------------------------
# The fitted sampler keeps every row's decision distributions and the draws
# behind each synthetic row; the classifier's history shows, per epoch, the
# share of seeds that took part and the entropy of each decision (a collapse
# to "nobody takes part" or to one trivial choice would show there).
#
# With the paper's joint objective the networks chose ``sum`` for most rows,
# with large ``k``: its points lie far from both classes, where they are
# trivially classified, and a training loss rewards easy points. The bilevel
# objective (skart's default, see the user guide) scores the decisions on
# held-out rows instead, uses ``sum`` far less and keeps most points near
# the rare class. With the default anchor both stay near SMOTE's choices
# (``linear`` with ``k = 5``).
for title in ["all six, bilevel, no anchor", "all six, joint (paper), no anchor"]:
    sampler = samplers[title]
    print(title)
    print("aggregations drawn:", Counter(sampler.synthetic_decisions_["aggregation"]))
    print("k drawn:", np.bincount(sampler.synthetic_decisions_["k"], minlength=7)[1:])
    history = sampler.estimator_.history_
    print("participation per epoch:", np.round(history[:, "participation"], 2))
    print("entropy of k:", np.round(history[:, "entropy_k"], 2))
