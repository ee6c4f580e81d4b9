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


def error_histogram(err, n_bins, sample_weight=None):
    """Share of rows per error bin ``[(i-1)/b, i/b)`` (last bin closed), times ``b``.

    The histogram sums to ``n_bins`` (the scale of the authors' code, entries
    near 1) and uses fixed bins over [0, 1] (Eq. 1 of the paper). With
    ``sample_weight`` each row counts with its weight (the share of the
    total weight per bin): an integer weight counts as repeated rows.
    """
    counts = np.histogram(
        np.clip(err, 0.0, 1.0), bins=n_bins, range=(0.0, 1.0), weights=sample_weight
    )[0]
    if sample_weight is None:
        return counts * (n_bins / max(len(err), 1))
    return counts * (n_bins / np.sum(sample_weight))


def meta_state(err_train, err_valid, n_bins, w_train=None, w_valid=None):
    """The meta-state ``[hist(train) : hist(valid)]``, shape ``(2 * n_bins,)``."""
    return np.concatenate(
        [
            error_histogram(err_train, n_bins, w_train),
            error_histogram(err_valid, n_bins, w_valid),
        ]
    )


def sample_subset(y, err, target, mu, sigma, rng):
    """Row positions of one member's training subset.

    Every class with more than ``target`` rows gives ``target`` rows drawn
    without replacement with probabilities proportional to
    ``g(err; mu, sigma)`` (uniform when ``mu`` is None); smaller classes are
    kept whole. ``target`` is one count for every class or one per class. With two classes and ``target`` the minority count this is
    Algorithm 1 of the paper: all minority rows plus as many majority rows.
    """
    picked = []
    for c in range(y.max() + 1):
        rows = np.flatnonzero(y == c)
        target_c = target if np.ndim(target) == 0 else target[c]
        if len(rows) <= target_c:
            picked.append(rows)
            continue
        if mu is None:
            p = None
        else:
            # log-space so a small sigma cannot underflow every weight to 0
            log_w = -0.5 * ((err[rows] - mu) / sigma) ** 2
            w = np.exp(log_w - log_w.max())
            if np.count_nonzero(w) < target_c:
                w = w + 1e-300
            p = w / w.sum()
        picked.append(rng.choice(rows, size=target_c, replace=False, p=p))
    return np.sort(np.concatenate(picked))


def binary_average_precision(positive, score, sample_weight=None):
    """``sklearn.metrics.average_precision_score`` for one class, without its checks.

    Called once per cascade step, where scikit-learn's input validation costs
    as much as fitting a tree. Sum over thresholds of (R_n - R_{n-1}) P_n,
    each row counted with its ``sample_weight`` if given.
    """
    order = np.argsort(score, kind="mergesort")[::-1]
    s, t = score[order], positive[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # end of each tie group
    if sample_weight is None:
        tps = np.cumsum(t)[last]
        predicted = last + 1
    else:
        w = sample_weight[order]
        tps = np.cumsum(t * w)[last]
        predicted = np.cumsum(w)[last]
    if tps[-1] == 0:
        return 0.0
    precision = tps / predicted
    recall = tps / tps[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def average_precision(y, proba, minority, sample_weight=None):
    """AUC-PR: of the minority class for two classes, macro one-vs-rest otherwise."""
    if proba.shape[1] == 2:
        return binary_average_precision(
            y == minority, proba[:, minority], sample_weight
        )
    return float(
        np.mean(
            [
                binary_average_precision(y == c, proba[:, c], sample_weight)
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
    w_tr, w_va : ndarray or None, default=None
        Sample weights of the folds (all positive), or None. They weight the
        error histograms of the state; the scorer gets ``w_va`` as its third
        argument.
    class_mass : ndarray of shape (n_classes,), default=None
        With ``w_tr``: the weight each class has in a member's subset; each
        member is fitted with ``sample_weight``, the rows of class ``c``
        sharing ``class_mass[c]`` in proportion to their weights.
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
        w_tr=None,
        w_va=None,
        class_mass=None,
    ):
        self.estimator = estimator
        self.w_tr, self.w_va, self.class_mass = w_tr, w_va, class_mass
        self.X_tr, self.y_tr, self.X_va, self.y_va = X_tr, y_tr, X_va, y_va
        self.n_classes, self.n_bins, self.sigma = n_classes, n_bins, sigma
        self.target, self.scorer, self.rng = target, scorer, rng
        self.members, self.subsets, self.scores = [], [], []
        self.proba_tr = np.zeros((len(y_tr), n_classes))  # running mean F_t
        self.proba_va = np.zeros((len(y_va), n_classes))

    def member_weights(self, idx):
        """The ``sample_weight`` of a member trained on the rows ``idx``."""
        y, w = self.y_tr[idx], self.w_tr[idx]
        in_subset = np.bincount(y, w, minlength=self.n_classes)  # (K,)
        return w * (self.class_mass / np.where(in_subset > 0, in_subset, 1.0))[y]

    def state(self):
        return meta_state(
            errors(self.proba_tr, self.y_tr),
            errors(self.proba_va, self.y_va),
            self.n_bins,
            self.w_tr,
            self.w_va,
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
        if self.w_tr is None:
            est.fit(self.X_tr[idx], self.y_tr[idx])
        else:
            est.fit(
                self.X_tr[idx], self.y_tr[idx], sample_weight=self.member_weights(idx)
            )
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
        if self.w_va is None:
            self.scores.append(float(self.scorer(self.y_va, self.proba_va)))
        else:
            self.scores.append(float(self.scorer(self.y_va, self.proba_va, self.w_va)))
        return self.scores[-1] - (self.scores[-2] if t else 0.0)
