"""Subsample a labelled data set to an exponential long-tailed class profile."""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state


def _long_tailed_counts(n_max, imbalance_factor, n_classes):
    """Class sizes of the exponential profile, largest first.

    Class ``k`` (0-based, in the profile's order) gets
    ``round(n_max * imbalance_factor ** (k / (n_classes - 1)))`` samples, so
    the first class gets ``n_max`` and the last ``n_max * imbalance_factor``.
    """
    if n_classes == 1:
        return np.array([n_max])
    exponents = np.arange(n_classes) / (n_classes - 1)
    return np.rint(n_max * imbalance_factor**exponents).astype(np.int64)


def _long_tailed_indices(y, *, imbalance_factor, n_max, order, random_state):
    """Validate the arguments and return the sorted indices to keep."""
    if (
        isinstance(imbalance_factor, bool)
        or not isinstance(imbalance_factor, Real)
        or not 0 < imbalance_factor <= 1
    ):
        raise ValueError(
            f"imbalance_factor must be a number in (0, 1], got {imbalance_factor!r}."
        )
    if n_max is not None and (
        isinstance(n_max, bool) or not isinstance(n_max, Integral) or n_max < 1
    ):
        raise ValueError(f"n_max must be None or an integer >= 1, got {n_max!r}.")
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-dimensional, got shape {y.shape}.")
    if y.size == 0:
        raise ValueError("y is empty.")
    labels, y_codes, available = np.unique(y, return_inverse=True, return_counts=True)
    if order is None:
        positions = np.arange(len(labels))
    else:
        order = list(order)  # a generator would be spent by the first pass
        code_of = {label: code for code, label in enumerate(labels.tolist())}
        positions = [code_of.get(label) for label in order]
        if (
            None in positions
            or len(positions) != len(labels)
            or len(set(positions)) != len(labels)
        ):
            raise ValueError(
                "order must list each class label of y exactly once; got "
                f"{order!r} for labels {labels.tolist()!r}."
            )
        positions = np.asarray(positions)
    ratios = imbalance_factor ** (np.arange(len(labels)) / max(len(labels) - 1, 1))
    if n_max is None:
        # The largest profile that every class can fill: n_max * ratio_k must
        # not exceed the size of the class at position k.
        n_max = int(np.min(np.floor(available[positions] / ratios + 1e-9)))
    counts = _long_tailed_counts(n_max, imbalance_factor, len(labels))
    # .tolist() so that messages show 2, not np.int64(2).
    for label, need, have in zip(
        labels[positions].tolist(), counts.tolist(), available[positions].tolist()
    ):
        if need > have:
            raise ValueError(
                f"Class {label!r} has {have} samples but the profile needs {need} "
                f"(n_max={n_max}, imbalance_factor={imbalance_factor}); lower "
                "n_max, or pass n_max=None for the largest feasible profile."
            )
        if need == 0:
            raise ValueError(
                f"The profile leaves class {label!r} with 0 samples "
                f"(n_max={n_max}, imbalance_factor={imbalance_factor}); raise "
                "n_max or imbalance_factor."
            )
    rng = check_random_state(random_state)
    keep = [
        rng.choice(np.flatnonzero(y_codes == code), size=need, replace=False)
        for code, need in zip(positions, counts)
    ]
    # Sorted, so that the kept samples stay in their original order.
    return np.sort(np.concatenate(keep))


def _take(X, indices):
    """Rows ``indices`` of an array, a sparse matrix, a DataFrame or a list."""
    if hasattr(X, "iloc"):
        return X.iloc[indices]
    if sp.issparse(X):
        # COO, DIA and BSR do not support row indexing.
        if X.format not in ("csr", "csc", "lil"):
            X = X.tocsr()
        return X[indices]
    return np.asarray(X)[indices]


def make_long_tailed(
    X, y, *, imbalance_factor=0.01, n_max=None, order=None, random_state=None
):
    """Subsample a labelled data set to an exponential long-tailed profile.

    With :math:`K` classes taken in ``order``, the class at position
    :math:`k = 0, \\dots, K-1` keeps

    .. math:: n_k = \\mathrm{round}\\left(n_{\\max} \\cdot
              \\mathrm{imbalance\\_factor}^{k / (K - 1)}\\right)

    samples drawn without replacement, so the head class keeps ``n_max`` and
    the tail class ``n_max * imbalance_factor``: the imbalance ratio
    :math:`n_0 / n_{K-1}` is ``1 / imbalance_factor``. This is the profile of
    the long-tailed CIFAR/MNIST benchmarks (Cui et al., 2019; Cao et al.,
    2019).

    Parameters
    ----------
    X : array-like, sparse matrix or DataFrame of shape (n_samples, ...)
        The samples; any number of trailing dimensions (e.g. images).
    y : array-like of shape (n_samples,)
        Class labels.
    imbalance_factor : float in (0, 1], default=0.01
        Size of the smallest class relative to the largest one. 1 gives a
        balanced subsample of ``n_max`` per class.
    n_max : int, default=None
        Size of the head class. If None, the largest value for which every
        class has enough samples.
    order : sequence of labels, default=None
        The classes from head (largest) to tail (smallest). If None, the
        sorted labels (``np.unique(y)``): the smallest label is the largest
        class.
    random_state : int, RandomState instance or None, default=None
        Controls which samples are kept.

    Returns
    -------
    X_lt : same type as X
        The kept samples, in their original relative order (a DataFrame keeps
        its index, a sparse matrix is returned as CSR unless it was CSC/LIL).
    y_lt : ndarray or Series
        Their labels (a Series if ``y`` is one).

    Raises
    ------
    ValueError
        If an argument is out of range, ``order`` is not a permutation of the
        labels, a class has fewer samples than the profile asks for, or the
        profile rounds a class down to 0 samples.

    References
    ----------
    .. [1] Y. Cui, M. Jia, T.-Y. Lin, Y. Song, S. Belongie, "Class-Balanced
       Loss Based on Effective Number of Samples", CVPR 2019.
    .. [2] K. Cao, C. Wei, A. Gaidon, N. Arechiga, T. Ma, "Learning Imbalanced
       Datasets with Label-Distribution-Aware Margin Loss", NeurIPS 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from skart.datasets import make_long_tailed
    >>> X = np.arange(300).reshape(100, 3)
    >>> y = np.repeat([0, 1, 2, 3], 25)
    >>> X_lt, y_lt = make_long_tailed(
    ...     X, y, imbalance_factor=0.1, n_max=20, random_state=0
    ... )
    >>> np.bincount(y_lt).tolist()
    [20, 9, 4, 2]
    """
    n_samples = X.shape[0] if hasattr(X, "shape") else len(X)
    if n_samples != len(y):
        raise ValueError(
            f"X and y have different numbers of samples: {n_samples} != {len(y)}."
        )
    indices = _long_tailed_indices(
        y,
        imbalance_factor=imbalance_factor,
        n_max=n_max,
        order=order,
        random_state=random_state,
    )
    return _take(X, indices), _take(y, indices)
