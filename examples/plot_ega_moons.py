"""
===========================================
EGA on two moons: where the points travel
===========================================

:class:`~skart.EGAClassifier` starts its synthetic points as copies of the
minority rows and, at every phase-2 step, moves them down the gradient of the
validation loss of a one-step look-ahead of the network. This example follows
those paths on an imbalanced two-moons problem (one moon thinned to a tenth),
and compares the test average precision with the same network trained on the
real rows alone (phase 1 only, ``max_epochs=0``) and with the points held
fixed (``eta2=0``, plain duplication of the minority).

During phase 2 the net keeps the points being learned in ``net.meta.Z``; a
small skorch callback copies them at the end of every epoch.

The paper's ``eta2=10`` barely moves points at this batch size (the
hypergradient of one point is divided by the rows of the batch, see the user
guide), so the paths here use ``eta2=100`` to be visible.
"""

# %%
# Data: two moons, one of them thinned to a tenth
# -----------------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_moons
from sklearn.metrics import average_precision_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler
from skorch.callbacks import Callback

from skart import EGAClassifier

X, y = make_moons(n_samples=1200, noise=0.25, random_state=0)
rng = np.random.RandomState(0)
keep = (y == 0) | (rng.rand(len(y)) < 0.1)
X, y = MinMaxScaler().fit_transform(X[keep]), y[keep]
X_fit, X_test, y_fit, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)
print("class counts (fit):", np.bincount(y_fit))


# %%
# Follow the points
# -----------------
class PointPaths(Callback):
    """Copy the synthetic points at the end of every phase-2 epoch."""

    def initialize(self):
        self.paths = []
        return self

    def on_epoch_end(self, net, **kwargs):
        if getattr(net, "meta", None) is not None:
            self.paths.append(net.meta.Z.detach().cpu().numpy().copy())


params = dict(
    pretrain_epochs=40, max_epochs=40, eta1=0.05, batch_size=64, random_state=0
)
models = {
    "phase 1 only": EGAClassifier(
        max_epochs=0, **{k: v for k, v in params.items() if k != "max_epochs"}
    ),
    "eta2 = 0": EGAClassifier(eta2=0.0, **params),
    "EGA, eta2 = 100": EGAClassifier(
        eta2=100.0, callbacks=[("paths", PointPaths())], **params
    ),
}
for name, clf in models.items():
    clf.fit(X_fit, y_fit)
    ap = average_precision_score(y_test, clf.predict_proba(X_test)[:, 1])
    print(f"{name:18s} test AP {ap:.3f}")

ega = models["EGA, eta2 = 100"]
paths = np.stack(dict(ega.net_.callbacks_)["paths"].paths)  # (epochs, points, 2)
print(
    "mean distance travelled per epoch:",
    np.round(ega.history_[-5:, "synthetic_distance"], 3),
)

# %%
# The paths and the decision boundary
# -----------------------------------
# Grey: majority rows; orange: minority rows (the starting points); black
# lines: each point's path over phase 2, ending in a red dot (the points at
# the epoch kept, ``synthetic_X_``). The shading is the learned model's
# probability of the minority class.
xx, yy = np.meshgrid(np.linspace(-0.05, 1.05, 200), np.linspace(-0.05, 1.05, 200))
grid = np.c_[xx.ravel(), yy.ravel()]
proba = ega.predict_proba(grid)[:, 1].reshape(xx.shape)
fig, ax = plt.subplots(figsize=(6, 5))
ax.contourf(xx, yy, proba, levels=20, cmap="RdBu_r", alpha=0.35)
ax.contour(xx, yy, proba, levels=[0.5], colors="k", linewidths=1)
ax.scatter(*X_fit[y_fit == 0].T, s=6, c="0.6", label="majority")
ax.scatter(*X_fit[y_fit == 1].T, s=18, c="tab:orange", label="minority")
for k in range(paths.shape[1]):
    ax.plot(paths[:, k, 0], paths[:, k, 1], c="k", lw=0.8)
ax.scatter(*ega.synthetic_X_.T, s=14, c="tab:red", label="learned points")
ax.legend(loc="lower left", fontsize=8)
ax.set_title("EGA: synthetic minority points and their paths")
plt.show()
