"""The MESA cascade in numpy: errors, the meta-state, Gaussian weights, sampled subsets.

:class:`Cascade` grows one ensemble member by member. ``MESAClassifier.fit``
drives it with a meta-sampler; ``MetaSampler.fit`` uses it as the environment
of the reinforcement learning (state, action ``mu``, reward = gain in the
validation metric).
"""

import numpy as np
from sklearn.base import clone

from .._validation import draw_seed

STATE_VERSION = 1  # fixed [0, 1] bins over all rows, normalised to sum n_bins


def gaussian_weight(x, mu, sigma):
    """Gaussian density ``g(x; mu, sigma)`` (Eq. 3 of the MESA paper)."""
    x = np.asarray(x, dtype=np.float64)
    return np.exp(-0.5 * ((x - mu) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))


def errors(proba, y):
    """Error of each row: ``1 - p(true class)`` (``|F(x) - y|`` for two classes)."""
    return 1.0 - proba[np.arange(len(y)), y]


def error_histogram(err, n_bins):
    """Share of rows per error bin ``[(i-1)/b, i/b)`` (last bin closed), times ``b``.

    The histogram sums to ``n_bins`` (the scale of the authors' code, entries
    near 1) and uses fixed bins over [0, 1] (Eq. 1 of the paper).
    """
    counts = np.histogram(np.clip(err, 0.0, 1.0), bins=n_bins, range=(0.0, 1.0))[0]
    return counts * (n_bins / max(len(err), 1))


def meta_state(err_train, err_valid, n_bins):
    """The meta-state ``[hist(train) : hist(valid)]``, shape ``(2 * n_bins,)``."""
    return np.concatenate(
        [error_histogram(err_train, n_bins), error_histogram(err_valid, n_bins)]
    )


def sample_subset(y, err, target, mu, sigma, rng):
    """Row positions of one member's training subset.

    Every class with more than ``target`` rows gives ``target`` rows drawn
    without replacement with probabilities proportional to
    ``g(err; mu, sigma)`` (uniform when ``mu`` is None); smaller classes are
    kept whole. With two classes and ``target`` the minority count this is
    Algorithm 1 of the paper: all minority rows plus as many majority rows.
    """
    picked = []
    for c in range(y.max() + 1):
        rows = np.flatnonzero(y == c)
        if len(rows) <= target:
            picked.append(rows)
            continue
        if mu is None:
            p = None
        else:
            # log-space so a small sigma cannot underflow every weight to 0
            log_w = -0.5 * ((err[rows] - mu) / sigma) ** 2
            w = np.exp(log_w - log_w.max())
            if np.count_nonzero(w) < target:
                w = w + 1e-300
            p = w / w.sum()
        picked.append(rng.choice(rows, size=target, replace=False, p=p))
    return np.sort(np.concatenate(picked))


def binary_average_precision(positive, score):
    """``sklearn.metrics.average_precision_score`` for one class, without its checks.

    Called once per cascade step, where scikit-learn's input validation costs
    as much as fitting a tree. Sum over thresholds of (R_n - R_{n-1}) P_n.
    """
    order = np.argsort(score, kind="mergesort")[::-1]
    s, t = score[order], positive[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # end of each tie group
    tps = np.cumsum(t)[last]
    if tps[-1] == 0:
        return 0.0
    precision = tps / (last + 1)
    recall = tps / tps[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def average_precision(y, proba, minority):
    """AUC-PR: of the minority class for two classes, macro one-vs-rest otherwise."""
    if proba.shape[1] == 2:
        return binary_average_precision(y == minority, proba[:, minority])
    return float(
        np.mean(
            [
                binary_average_precision(y == c, proba[:, c])
                for c in range(proba.shape[1])
            ]
        )
    )


def member_proba(est, X, n_classes):
    """``est.predict_proba(X)`` with one column per class index 0..n_classes-1."""
    p = est.predict_proba(X)
    if p.shape[1] == n_classes:
        return p
    full = np.zeros((X.shape[0], n_classes))
    full[:, np.asarray(est.classes_, dtype=int)] = p
    return full


class Cascade:
    """One MESA ensemble being grown on encoded folds.

    Parameters
    ----------
    estimator : classifier with ``predict_proba``
        Cloned for each member; its ``random_state`` (if any) is drawn from ``rng``.
    X_tr, y_tr, X_va, y_va : arrays
        The training and validation folds; labels are class indices.
    n_classes, n_bins, sigma, target : int, int, float, int
        Number of classes, histogram bins, Gaussian width, rows per sampled class.
    scorer : callable ``(y_va, proba_va) -> float``
        The validation metric (state of the reward).
    rng : numpy.random.RandomState
        Source of every random draw.
    """

    def __init__(
        self,
        estimator,
        X_tr,
        y_tr,
        X_va,
        y_va,
        *,
        n_classes,
        n_bins,
        sigma,
        target,
        scorer,
        rng,
    ):
        self.estimator = estimator
        self.X_tr, self.y_tr, self.X_va, self.y_va = X_tr, y_tr, X_va, y_va
        self.n_classes, self.n_bins, self.sigma = n_classes, n_bins, sigma
        self.target, self.scorer, self.rng = target, scorer, rng
        self.members, self.subsets, self.scores = [], [], []
        self.proba_tr = np.zeros((len(y_tr), n_classes))  # running mean F_t
        self.proba_va = np.zeros((len(y_va), n_classes))

    def state(self):
        return meta_state(
            errors(self.proba_tr, self.y_tr),
            errors(self.proba_va, self.y_va),
            self.n_bins,
        )

    def step(self, mu=None):
        """Add one member trained on a subset drawn around ``mu``; return the reward.

        The first member, and every member when ``mu`` is None, is trained on
        a uniformly drawn subset.
        """
        if not self.members:
            mu = None
        idx = sample_subset(
            self.y_tr,
            errors(self.proba_tr, self.y_tr),
            self.target,
            mu,
            self.sigma,
            self.rng,
        )
        est = clone(self.estimator)
        if "random_state" in est.get_params(deep=False):
            est.set_params(random_state=draw_seed(self.rng))
        est.fit(self.X_tr[idx], self.y_tr[idx])
        t = len(self.members)
        # F_{t+1} = (t F_t + f_{t+1}) / (t + 1)
        self.proba_tr = (
            t * self.proba_tr + member_proba(est, self.X_tr, self.n_classes)
        ) / (t + 1)
        self.proba_va = (
            t * self.proba_va + member_proba(est, self.X_va, self.n_classes)
        ) / (t + 1)
        self.members.append(est)
        self.subsets.append(idx)
        self.scores.append(float(self.scorer(self.y_va, self.proba_va)))
        return self.scores[-1] - (self.scores[-2] if t else 0.0)
