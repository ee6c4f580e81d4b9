"""Input checks and the validation split shared by every skart estimator."""

import inspect
import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, column_or_1d, validate_data

# What X may be, in fit, for the validation set and at prediction.
X_CHECKS = {
    "accept_sparse": "csr",
    "dtype": (np.float32, np.float64),
    "allow_nd": True,
}


def _check_numeric_columns(estimator, X):
    """Refuse a DataFrame with non-numeric columns, naming them and the fix."""
    select = getattr(X, "select_dtypes", None)
    if select is None:
        return
    columns = select(exclude=["number", "bool"]).columns.tolist()
    if columns:
        dtypes = {str(c): str(X.dtypes[c]) for c in columns}
        raise ValueError(
            f"{type(estimator).__name__} needs numeric features, but the DataFrame "
            f"has non-numeric columns {dtypes}. Encode them in a pipeline first, "
            "e.g. make_pipeline(make_column_transformer((OneHotEncoder("
            f"handle_unknown='ignore'), {[str(c) for c in columns]}), "
            f"remainder=StandardScaler()), {type(estimator).__name__}()), or "
            "OrdinalEncoder for ordered categories."
        )


def check_X(estimator, X, *, reset=False, **checks):
    """Validate ``X`` as every skart estimator does (``X_CHECKS`` unless overridden)."""
    _check_numeric_columns(estimator, X)
    return validate_data(estimator, X, reset=reset, **{**X_CHECKS, **checks})


def check_X_y(estimator, X, y, *, compact_labels=False, **checks):
    """Validate training data and encode the labels.

    Sets ``classes_`` (and ``n_features_in_`` / ``feature_names_in_``) on the
    estimator and returns ``X``, the encoded labels ``y_enc`` (indices into
    ``classes_``: int64, or with ``compact_labels`` the smallest dtype of
    :func:`label_dtype`). The labels are encoded a chunk at a time, with no
    row-sized temporaries beyond one sorted copy of ``y``.
    """
    _check_numeric_columns(estimator, X)
    X, y = validate_data(estimator, X, y, **{**X_CHECKS, **checks})
    return X, encode_labels(estimator, y, compact_labels=compact_labels)


def encode_labels(estimator, y, *, compact_labels=False):
    """Check classification labels, set ``classes_``, return the encoded labels.

    The encoding of :func:`check_X_y`, for labels that come without an array
    of features (those of a torch Dataset).
    """
    y = column_or_1d(y, warn=True)
    check_classification_targets(y)
    classes = estimator.classes_ = np.unique(y)
    if len(classes) < 2:
        raise ValueError(
            f"{type(estimator).__name__} needs samples of at least 2 classes; got "
            f"1 class: {classes.tolist()}."
        )
    dtype = label_dtype(len(classes)) if compact_labels else np.int64
    y_enc = np.empty(len(y), dtype=dtype)
    for start in range(0, len(y), 1 << 16):  # = np.unique's inverse
        y_enc[start : start + (1 << 16)] = np.searchsorted(
            classes, y[start : start + (1 << 16)]
        )
    return y_enc


def encode_validation_labels(estimator, labels, dtype, name="y_val"):
    """Encode a validation set's labels as indices into the fitted ``classes_``.

    A label that ``y`` does not hold is refused: the validation set may only
    hold classes seen in training.
    """
    unseen = np.setdiff1d(labels, estimator.classes_)
    if unseen.size:
        raise ValueError(
            f"{name} has labels {unseen.tolist()} that are not in y; the "
            "validation set may only hold classes seen in training."
        )
    return np.searchsorted(estimator.classes_, labels).astype(dtype)


def stratified_split(y, fraction, rng):
    """Split rows into train and validation, stratified, keeping every class in train.

    Class k gives ``round(fraction * n_k)`` rows to validation, at most
    ``n_k - 1``: a class of one row stays in training, and a class too small
    for one validation row is absent from the validation fold. scikit-learn's
    stratified splitters refuse such classes.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Encoded labels (non-negative integers).
    fraction : float in (0, 1)
        Share of each class for validation.
    rng : numpy.random.RandomState
        Source of the random order within each class.

    Returns
    -------
    train_idx, valid_idx : ndarray of int32 (int64 beyond 2**31 rows)
        Sorted row positions of the two folds.
    """
    counts = np.bincount(y)
    n_valid = np.clip(np.floor(fraction * counts + 0.5), 0, np.maximum(counts - 1, 0))
    if n_valid.sum() == 0:
        raise ValueError(
            f"validation_fraction={fraction} leaves the validation fold empty for "
            f"{len(y)} samples with class counts {counts.tolist()}: the validation "
            "fold is needed for early stopping and model selection. Pass more "
            "samples or a larger validation_fraction."
        )
    # rng.permutation(n), in int32 where it fits (the same draws and values).
    order = np.arange(len(y), dtype=index_dtype(len(y)))
    rng.shuffle(order)
    # Random order within class.
    order = order[class_order(y[order], counts, index_dtype(len(y)))]
    # The first n_valid[k] rows of each class's block go to validation.
    lengths = np.column_stack([n_valid, counts - n_valid]).ravel().astype(np.int64)
    is_valid = np.repeat(np.tile([True, False], len(counts)), lengths)
    return np.sort(order[~is_valid]), np.sort(order[is_valid])


def index_dtype(n):
    """The integer dtype of row positions below ``n``: int32 where it fits, else int64.

    Index arrays as long as the data (the split, the sampler's order, an
    epoch's draws) take half the memory in int32; numpy and torch index with
    either.
    """
    return np.int32 if n <= np.iinfo(np.int32).max else np.int64


def class_order(y, class_counts, dtype, chunk_rows=1 << 18):
    """``np.argsort(y, kind="stable")`` as ``dtype``, built a chunk of rows at a time.

    A counting sort: each chunk is sorted stably and its rows go to the next
    free places of their classes, so no ``len(y)``-sized int64 array is made.
    ``class_counts`` is ``np.bincount(y)`` (any length that covers ``y``).
    """
    order = np.empty(len(y), dtype=dtype)
    free = np.concatenate(([0], np.cumsum(class_counts)[:-1]))  # (K,) next slot
    for start in range(0, len(y), chunk_rows):
        yc = y[start : start + chunk_rows]
        counts = np.bincount(yc, minlength=len(class_counts))  # (K,)
        first = np.cumsum(counts) - counts  # (K,) where class k starts in the chunk
        dest = np.repeat(free - first, counts) + np.arange(len(yc))
        order[dest] = np.argsort(yc, kind="stable") + start
        free += counts
    return order


def label_dtype(n_classes):
    """The smallest integer dtype torch indexes with that holds ``n_classes`` codes."""
    for dtype in (np.uint8, np.int16, np.int32):
        if n_classes - 1 <= np.iinfo(dtype).max:
            return dtype
    return np.int64


def take_rows(X, rows, dtype, chunk_bytes=4 << 20, out=None):
    """``X[rows]`` as a C-contiguous array of ``dtype``, with no copy of ``X`` in
    between: the rows are gathered and converted about ``chunk_bytes`` of
    ``X`` at a time, into ``out`` when given (an array of ``len(rows)`` rows).
    """
    if out is None:
        out = np.empty((len(rows), *X.shape[1:]), dtype=dtype)
    row_bytes = X.itemsize * int(np.prod(X.shape[1:]))
    chunk_rows = max(1, chunk_bytes // max(row_bytes, 1))
    for start in range(0, len(rows), chunk_rows):
        stop = start + chunk_rows
        out[start:stop] = X[rows[start:stop]]  # converts on assignment
    return out


def train_valid_folds(
    estimator,
    X,
    y_enc,
    X_val,
    y_val,
    fraction,
    rng,
    *,
    sample_weight=None,
    dtype=None,
    **checks,
):
    """The training and validation folds of a ``fit``.

    With ``X_val``/``y_val`` None, ``fraction`` of each class of ``X`` is held
    out (:func:`stratified_split`); otherwise the given validation set is
    checked against the fitted ``classes_`` and feature count.

    With ``dtype`` (say float32) and dense ``X``, the folds are made in one
    converted copy of ``X``, training rows first, and returned as views of
    it: the data are copied once, not once per fold and again per dtype.

    Returns
    -------
    X_tr, y_tr, X_va, y_va
        Features and encoded labels of the two folds.
    w_tr, w_va
        The weights of the two folds: None without ``sample_weight``, and
        ``w_va`` None for a validation set of the user's, which is scored
        unweighted.
    """
    if (X_val is None) != (y_val is None):
        raise ValueError("Pass both X_val and y_val, or neither.")
    if X_val is None:
        train_idx, valid_idx = stratified_split(y_enc, fraction, rng)
        if dtype is None or sp.issparse(X):
            X_tr, X_va = X[train_idx], X[valid_idx]
        else:
            n_tr = len(train_idx)
            X_both = np.empty((n_tr + len(valid_idx), *X.shape[1:]), dtype=dtype)
            X_tr, X_va = X_both[:n_tr], X_both[n_tr:]
            take_rows(X, train_idx, dtype, out=X_tr)
            take_rows(X, valid_idx, dtype, out=X_va)
        w_tr = w_va = None
        if sample_weight is not None:
            w_tr, w_va = sample_weight[train_idx], sample_weight[valid_idx]
        return X_tr, y_enc[train_idx], X_va, y_enc[valid_idx], w_tr, w_va
    X_va = check_X(estimator, X_val, **checks)
    y_val = column_or_1d(y_val)
    y_va = encode_validation_labels(estimator, y_val, y_enc.dtype)
    if len(y_val) != X_va.shape[0]:
        raise ValueError(
            f"X_val has {X_va.shape[0]} rows but y_val has {len(y_val)} labels."
        )
    if dtype is not None and not sp.issparse(X):
        X = np.ascontiguousarray(X, dtype=dtype)
        X_va = np.ascontiguousarray(X_va, dtype=dtype)
    return X, y_enc, X_va, y_va, sample_weight, None


def check_weights(sample_weight, X):
    """Validate ``sample_weight`` for ``X`` (or a number of rows): None when
    absent or all equal.

    Equal weights change nothing, so they take the unweighted path and give
    bitwise the model that no weights give.
    """
    if sample_weight is None:
        return None
    # The checks and messages of scikit-learn's private _check_sample_weight.
    n_samples = X if isinstance(X, numbers.Integral) else X.shape[0]
    if isinstance(sample_weight, numbers.Number):
        sample_weight = np.full(n_samples, sample_weight, dtype=np.float64)
    else:
        sample_weight = check_array(
            sample_weight,
            accept_sparse=False,
            ensure_2d=False,
            dtype=np.float64,
            order="C",
            input_name="sample_weight",
        )
        if sample_weight.ndim != 1:
            raise ValueError(
                "Sample weights must be 1D array or scalar, got "
                f"{sample_weight.ndim}D array. Expected either a scalar value "
                f"or a 1D array of length {n_samples}."
            )
        if sample_weight.shape != (n_samples,):
            raise ValueError(
                f"sample_weight.shape == {sample_weight.shape}, expected "
                f"{(n_samples,)}!"
            )
    if np.any(sample_weight < 0):
        raise ValueError("Negative values in data passed to `sample_weight`")
    # scikit-learn refuses all-zero weights from 1.9 on; earlier ones let them
    # through, and equal weights would then train unweighted without a word.
    if not np.any(sample_weight > 0):
        raise ValueError(
            "Sample weights must contain at least one non-zero number; every "
            "row has sample_weight 0."
        )
    if np.all(sample_weight == sample_weight[0]):
        return None
    return sample_weight


def draw_seed(rng):
    """One int32 seed drawn from ``rng``, for torch and the samplers of a fit."""
    return int(rng.randint(np.iinfo(np.int32).max))


def accepts(factory, name):
    """Whether a class (or callable) takes a keyword argument ``name``."""
    try:
        return name in inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return False
