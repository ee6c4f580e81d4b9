"""A decision rule fitted on the validation fold: per-class offsets on the log-probabilities.

``predict`` is ``argmax_k(log p_k(x) + b_k)``. With ``b = 0`` it is the usual
argmax. For two classes an offset is a decision threshold on ``p_1``:
``p_1 >= 1 / (1 + exp(b_1 - b_0))``. The offsets are chosen to maximise the
mean per-class metric (macro F1 by default) on the validation predictions:
exactly for two classes (every threshold that changes a decision is tried),
by coordinate ascent for more.
"""

import numpy as np
import torch

from ._metrics import class_scores

# Offsets beyond this change nothing that the data can support.
_MAX_OFFSET = 20.0
# Candidate offsets per class and sweep in the multi-class search.
_MAX_CANDIDATES = 256


def _macro(scores, y, offsets, metric, n_classes, weights):
    pred = np.argmax(scores + offsets, axis=1)
    values = class_scores(
        torch.from_numpy(y), torch.from_numpy(pred), n_classes, metric, weights
    )
    return float(np.nanmean(values))


def _candidates(margins):
    """Offsets halfway between the margins at which decisions flip, and 0."""
    m = np.unique(np.clip(margins, -_MAX_OFFSET, _MAX_OFFSET))
    mid = (m[:-1] + m[1:]) / 2 if len(m) > 1 else m
    if len(mid) > _MAX_CANDIDATES:
        mid = np.quantile(mid, np.linspace(0, 1, _MAX_CANDIDATES))
    # The offsets just past either end flip every row or none.
    return np.unique(np.concatenate([mid, m[:1] - 1e-6, m[-1:] + 1e-6, [0.0]]))


def tune_offsets(
    log_proba, y, metric="f1", min_support=5, n_sweeps=2, sample_weight=None
):
    """Per-class offsets on log-probabilities that maximise the macro metric.

    Parameters
    ----------
    log_proba : ndarray of shape (n_samples, n_classes)
        Log-probabilities (or logits) of the validation rows.
    y : ndarray of shape (n_samples,)
        Their class indices.
    metric : {"f1", "recall", "precision"} or callable, default="f1"
        Per-class metric whose mean is maximised (see ``class_scores``).
    min_support : int, default=5
        A class with fewer validation rows keeps offset 0: a threshold fitted
        to one or two rows follows their noise.
    n_sweeps : int, default=2
        Passes of coordinate ascent over the classes (multi-class only).
    sample_weight : ndarray of shape (n_samples,), default=None
        Weights of the validation rows in the metric.

    Returns
    -------
    offsets : ndarray of shape (n_classes,)
        ``offsets[0] == 0``; among offsets of equal validation score, the one
        closest to 0 (the argmax rule) is kept.
    """
    scores = np.asarray(log_proba, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    n_classes = scores.shape[1]
    support = np.bincount(y, minlength=n_classes)
    offsets = np.zeros(n_classes)
    tunable = [k for k in range(1, n_classes) if support[k] >= min_support]
    if n_classes == 2 and support[0] < min_support:
        tunable = []
    weights = None if sample_weight is None else torch.as_tensor(sample_weight)
    best = _macro(scores, y, offsets, metric, n_classes, weights)
    for _ in range(n_sweeps if n_classes > 2 else 1):
        changed = False
        for k in tunable:
            others = np.delete(scores + offsets, k, axis=1).max(axis=1)
            # Row i goes to class k once b_k exceeds others_i - s_ik.
            for b in sorted(_candidates(others - scores[:, k]), key=abs):
                trial = offsets.copy()
                trial[k] = b
                value = _macro(scores, y, trial, metric, n_classes, weights)
                if value > best + 1e-12 or (
                    value >= best - 1e-12 and abs(b) < abs(offsets[k])
                ):
                    best, offsets, changed = value, trial, True
        if not changed:
            break
    return offsets


def binary_threshold(offsets):
    """The decision threshold on class 1's probability that two offsets make.

    ``log p1 + o1 > log p0 + o0`` holds exactly when ``p1 > 1 / (1 + exp(o1 - o0))``.

    Parameters
    ----------
    offsets : array-like of shape (2,)
        The offsets of classes 0 and 1.

    Returns
    -------
    threshold : float
        The probability of class 1 above which ``predict`` says class 1.
    """
    b = offsets[1] - offsets[0]
    return float(1.0 / (1.0 + np.exp(b)))
