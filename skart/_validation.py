"""Input checks and the validation split shared by every skart estimator."""

import numpy as np
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d, validate_data

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


def check_X_y(estimator, X, y, **checks):
    """Validate training data and encode the labels.

    Sets ``classes_`` (and ``n_features_in_`` / ``feature_names_in_``) on the
    estimator and returns ``X``, the encoded labels ``y_enc`` (int64 indices
    into ``classes_``).
    """
    _check_numeric_columns(estimator, X)
    X, y = validate_data(estimator, X, y, **{**X_CHECKS, **checks})
    check_classification_targets(y)
    estimator.classes_, y_enc = np.unique(y, return_inverse=True)
    if len(estimator.classes_) < 2:
        raise ValueError(
            f"{type(estimator).__name__} needs samples of at least 2 classes; got "
            f"1 class: {estimator.classes_.tolist()}."
        )
    return X, y_enc.astype(np.int64, copy=False)


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
    train_idx, valid_idx : ndarray of int
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
    order = rng.permutation(len(y))
    order = order[np.argsort(y[order], kind="stable")]  # random order within class
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    rank = np.arange(len(y)) - starts[y[order]]
    is_valid = rank < n_valid[y[order]]
    return np.sort(order[~is_valid]), np.sort(order[is_valid])


def train_valid_folds(estimator, X, y_enc, X_val, y_val, fraction, rng, **checks):
    """The training and validation folds of a ``fit``.

    With ``X_val``/``y_val`` None, ``fraction`` of each class of ``X`` is held
    out (:func:`stratified_split`); otherwise the given validation set is
    checked against the fitted ``classes_`` and feature count.

    Returns
    -------
    X_tr, y_tr, X_va, y_va
        Features and encoded labels of the two folds.
    """
    if (X_val is None) != (y_val is None):
        raise ValueError("Pass both X_val and y_val, or neither.")
    if X_val is None:
        train_idx, valid_idx = stratified_split(y_enc, fraction, rng)
        return X[train_idx], y_enc[train_idx], X[valid_idx], y_enc[valid_idx]
    X_va = check_X(estimator, X_val, **checks)
    y_val = column_or_1d(y_val)
    unseen = np.setdiff1d(y_val, estimator.classes_)
    if unseen.size:
        raise ValueError(
            f"y_val has labels {unseen.tolist()} that are not in y; the "
            "validation set may only hold classes seen in training."
        )
    if len(y_val) != X_va.shape[0]:
        raise ValueError(
            f"X_val has {X_va.shape[0]} rows but y_val has {len(y_val)} labels."
        )
    y_va = np.searchsorted(estimator.classes_, y_val).astype(np.int64)
    return X, y_enc, X_va, y_va


def draw_seed(rng):
    """One int32 seed drawn from ``rng``, for torch and the samplers of a fit."""
    return int(rng.randint(np.iinfo(np.int32).max))
