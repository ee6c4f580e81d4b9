"""The ART update rule: from per-class validation scores to a sampling distribution."""

import numpy as np


def difficulty_weights(scores):
    """Turn per-class scores into normalised difficulty weights.

    Difficulty is ``s_i = 1 - f_i`` and the weights are ``w_i = s_i / sum(s)``.
    When every class is scored perfectly (``sum(s) == 0``) the weights are
    uniform. A class whose score is NaN (no evidence, for example a class that
    is absent from the validation fold) receives the mean difficulty of the
    scored classes, so it is neither boosted nor starved.

    Parameters
    ----------
    scores : array-like of shape (n_classes,)
        Per-class control metric in [0, 1], higher is better. NaN marks a class
        that could not be scored.

    Returns
    -------
    w : ndarray of shape (n_classes,)
        Non-negative weights summing to 1.

    Examples
    --------
    >>> from skart import difficulty_weights
    >>> difficulty_weights([0.9, 0.6, 0.5]).round(3)
    array([0.1, 0.4, 0.5])
    >>> difficulty_weights([1.0, 1.0])
    array([0.5, 0.5])
    """
    scores = np.asarray(scores, dtype=np.float64)
    s = 1.0 - np.clip(scores, 0.0, 1.0)
    unscored = np.isnan(s)
    if unscored.all():
        return np.full(s.shape, 1.0 / s.size)
    s[unscored] = s[~unscored].mean()
    total = s.sum()
    if total <= 0.0:
        return np.full(s.shape, 1.0 / s.size)
    return s / total


def smooth_scores(scores, support, smooth):
    """Shrink per-class scores towards their mean in proportion to little support.

    The score of a class with ``n`` validation rows becomes ``(n * f + smooth *
    m) / (n + smooth)``, where ``m`` is the mean score of the scored classes:
    the posterior mean under a prior worth ``smooth`` validation rows, as in
    scikit-learn's :class:`~sklearn.preprocessing.TargetEncoder`. A class with
    hundreds of rows keeps its score; a class with one missed row moves from
    0 to ``smooth * m / (1 + smooth)`` instead of taking the largest weight on
    the evidence of one prediction. Unscored (NaN) classes stay NaN.

    Parameters
    ----------
    scores : array-like of shape (n_classes,)
        Per-class scores in [0, 1]; NaN marks an unscored class.
    support : array-like of shape (n_classes,)
        Validation rows (or their total weight) per class.
    smooth : float >= 0
        Strength of the prior in validation rows; 0 returns the scores as
        they are.

    Returns
    -------
    scores : ndarray of shape (n_classes,)

    Examples
    --------
    >>> from skart._art._update import smooth_scores
    >>> smooth_scores([0.9, 0.7, 0.0], support=[300, 100, 1], smooth=1.0).round(3)
    array([0.899, 0.698, 0.267])
    """
    scores = np.asarray(scores, dtype=np.float64)
    support = np.asarray(support, dtype=np.float64)
    scored = ~np.isnan(scores)
    if smooth == 0 or not scored.any():
        return scores.copy()
    mean = scores[scored].mean()
    return (support * scores + smooth * mean) / (support + smooth)


def art_distribution(scores, prior, c, *, support=None, smooth=0.0):
    """Compute ART's sampling distribution ``p = c * prior + (1 - c) * w``.

    Parameters
    ----------
    scores : array-like of shape (n_classes,) or None
        Per-class control metric (see :func:`difficulty_weights`). ``None``
        means "no scores yet": ``w`` is uniform, as at the start of training.
    prior : array-like of shape (n_classes,)
        Empirical class distribution of the training fold.
    c : float in [0, 1]
        Blend between the prior (``c=1``) and the difficulty weights (``c=0``).
    support : array-like of shape (n_classes,), default=None
        Validation rows per class behind ``scores``; needed when ``smooth``
        is positive.
    smooth : float >= 0, default=0.0
        Shrink the scores towards their mean before taking difficulties, with
        a prior worth this many validation rows (see the user guide):
        ``(n * f + smooth * mean(f)) / (n + smooth)`` for a class of ``n`` rows.

    Returns
    -------
    p : ndarray of shape (n_classes,)
        Class sampling distribution, summing to 1.

    References
    ----------
    .. [1] ART: Adaptive Resampling-based Training for Imbalanced
       Classification, arXiv:2509.00955, 2025.

    Examples
    --------
    >>> from skart import art_distribution
    >>> art_distribution([0.5, 0.5], prior=[0.5, 0.5], c=0.8)
    array([0.5, 0.5])
    >>> art_distribution(None, prior=[0.9, 0.1], c=0.5)
    array([0.7, 0.3])
    """
    prior = np.asarray(prior, dtype=np.float64)
    prior = prior / prior.sum()
    if scores is None:
        w = np.full(prior.shape, 1.0 / prior.size)
    else:
        if smooth:
            if support is None:
                raise ValueError("smooth > 0 needs the support of each class.")
            scores = smooth_scores(scores, support, smooth)
        w = difficulty_weights(scores)
        if w.shape != prior.shape:
            raise ValueError(
                f"Got {w.size} class scores for {prior.size} classes; pass one "
                "score per class."
            )
    p = c * prior + (1.0 - c) * w
    return p / p.sum()
