"""Class-balanced per-class weights (inverse frequency / effective number)."""

import math
import numbers

import torch

from ._utils import check_class_counts


def check_beta(beta, allow_none=True):
    """Return ``beta`` if it is a float in [0, 1) (or None when allowed)."""
    if beta is None and allow_none:
        return None
    if (
        isinstance(beta, bool)
        or not isinstance(beta, numbers.Real)
        or not 0.0 <= beta < 1.0  # also rejects NaN
    ):
        expected = "a float in [0, 1)" + (" or None" if allow_none else "")
        raise ValueError(f"beta must be {expected}, got {beta!r}.")
    return float(beta)


def balanced_weights(counts, beta=None):
    """Torch core of :func:`class_balanced_weights` for a validated (K,) tensor.

    Stays on the device and dtype of ``counts`` so that criteria and the DRW
    callback can call it without a host round trip.
    """
    if beta is None:
        raw = counts.reciprocal()
    elif beta == 0.0:
        raw = torch.ones_like(counts)
    else:
        # 1 - beta**n_k as -expm1(n_k log beta): accurate even in float32
        # when beta is close to 1 (beta**n_k ~ 1 for the rare classes).
        raw = (1.0 - beta) / -torch.expm1(counts * math.log(beta))
    return raw * (counts.numel() / raw.sum())  # (K,), sums to K


def class_balanced_weights(class_counts, beta=None):
    """Per-class weights normalised to sum to the number of classes ``K``.

    Parameters
    ----------
    class_counts : array-like of shape (K,)
        Strictly positive training-set count of each class, in class-index
        order.
    beta : float in [0, 1) or None, default=None
        ``None`` gives inverse-frequency weights ``w_k ∝ 1 / n_k``. A float
        gives the class-balanced "effective number" weights of Cui et al.
        (2019), ``w_k ∝ (1 - beta) / (1 - beta ** n_k)``; ``beta=0`` is
        uniform and ``beta -> 1`` tends to inverse frequency.

    Returns
    -------
    weights : torch.Tensor of shape (K,), dtype float32
        ``weights.sum() == K``: the mean weight is 1, so the overall scale of
        the loss (and hence a tuned learning rate) is roughly preserved.

    References
    ----------
    Y. Cui, M. Jia, T.-Y. Lin, Y. Song and S. Belongie, "Class-Balanced Loss
    Based on Effective Number of Samples", CVPR 2019.

    Examples
    --------
    >>> from skart.losses import class_balanced_weights
    >>> class_balanced_weights([90, 10]).numpy().round(3)
    array([0.2, 1.8], dtype=float32)
    >>> class_balanced_weights([90, 10], beta=0.9).numpy().round(3)
    array([0.789, 1.211], dtype=float32)
    """
    beta = check_beta(beta)
    if class_counts is None:
        raise ValueError("class_counts is required to compute class weights.")
    counts = torch.as_tensor(check_class_counts(class_counts), dtype=torch.float64)
    return balanced_weights(counts, beta).to(torch.float32)
