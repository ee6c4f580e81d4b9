"""Class-wise control metrics computed from counts, in one vectorised pass."""

import numpy as np
import torch


def class_counts(y_true, y_pred, n_classes, sample_weight=None):
    """Count true positives, predictions and true rows per class.

    Parameters
    ----------
    y_true, y_pred : torch.Tensor of shape (n_samples,)
        Integer class indices in ``[0, n_classes)``, on any device.
    n_classes : int

    Returns
    -------
    tp, n_pred, n_true : torch.Tensor of shape (n_classes,)
        Counts on the device of the inputs. This is ``O(n + K)``: no K x K
        confusion matrix is built.
    """
    w = sample_weight
    hit = y_true == y_pred
    tp = torch.bincount(
        y_true[hit], weights=None if w is None else w[hit], minlength=n_classes
    )
    n_pred = torch.bincount(y_pred, weights=w, minlength=n_classes)
    n_true = torch.bincount(y_true, weights=w, minlength=n_classes)
    return tp, n_pred, n_true


def _divide(num, den):
    # 0/0 -> 0 (the zero_division=0 convention of scikit-learn).
    return np.divide(num, den, out=np.zeros(num.shape), where=den > 0)


def scores_from_counts(tp, n_pred, n_true, metric="f1"):
    """Per-class recall, precision or F1 from counts.

    Classes without any true row (``n_true == 0``) are unscored: NaN. A class
    that has true rows but is never predicted scores 0, as in scikit-learn's
    ``zero_division=0``.

    Parameters
    ----------
    tp, n_pred, n_true : array-like of shape (n_classes,)
        Counts from :func:`class_counts`.
    metric : {"f1", "recall", "precision"}, default="f1"

    Returns
    -------
    scores : ndarray of shape (n_classes,)
    """
    tp, n_pred, n_true = (np.asarray(a, dtype=np.float64) for a in (tp, n_pred, n_true))
    if metric == "recall":
        scores = _divide(tp, n_true)
    elif metric == "precision":
        scores = _divide(tp, n_pred)
    elif metric == "f1":
        scores = _divide(2.0 * tp, n_pred + n_true)
    else:
        raise ValueError(
            f"Unknown metric {metric!r}; use 'f1', 'recall' or 'precision'."
        )
    scores[n_true == 0] = np.nan
    return scores


def class_scores(y_true, y_pred, n_classes, metric="f1", sample_weight=None):
    """Per-class control metric of predictions.

    Parameters
    ----------
    y_true, y_pred : torch.Tensor of shape (n_samples,)
        Integer class indices in ``[0, n_classes)``.
    n_classes : int
    metric : {"f1", "recall", "precision"} or callable, default="f1"
        A callable is called as ``metric(y_true, y_pred, labels=labels)`` with
        NumPy arrays of class indices and ``labels = np.arange(n_classes)``,
        and must return ``n_classes`` scores in [0, 1], higher is better;
        scikit-learn's metrics with ``average=None`` fit, e.g.
        ``functools.partial(fbeta_score, beta=2, average=None, zero_division=0)``.
        Classes absent from ``y_true`` are unscored (NaN) in every case.

    Returns
    -------
    scores : ndarray of shape (n_classes,)

    Examples
    --------
    >>> import torch
    >>> from skart._metrics import class_scores
    >>> class_scores(torch.tensor([0, 0, 1, 1]), torch.tensor([0, 1, 1, 1]), 3)
    array([0.66666667, 0.8       ,        nan])
    """
    if callable(metric):
        y_true_np = y_true.cpu().numpy()
        kwargs = {"labels": np.arange(n_classes)}
        if sample_weight is not None:
            kwargs["sample_weight"] = sample_weight.cpu().numpy()
        scores = np.asarray(
            metric(y_true_np, y_pred.cpu().numpy(), **kwargs), dtype=np.float64
        )
        if scores.shape != (n_classes,):
            raise ValueError(
                f"The metric callable returned shape {scores.shape}; it must return "
                f"one score per class, shape ({n_classes},). For scikit-learn "
                "metrics pass average=None."
            )
        weights = None if sample_weight is None else kwargs["sample_weight"]
        scores[np.bincount(y_true_np, weights, minlength=n_classes) == 0] = np.nan
        return scores
    counts = class_counts(y_true, y_pred, n_classes, sample_weight)
    return scores_from_counts(*(c.cpu().numpy() for c in counts), metric=metric)
