"""Input checks, label encoding and the validation split (skart._validation)."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator

from skart._validation import (
    check_weights,
    check_X_y,
    class_order,
    index_dtype,
    label_dtype,
    stratified_split,
    take_rows,
)


def test_index_and_label_dtypes():
    assert index_dtype(10) == np.int32
    assert index_dtype(2**31 - 1) == np.int32
    assert index_dtype(2**31) == np.int64
    assert label_dtype(2) == np.uint8
    assert label_dtype(256) == np.uint8
    assert label_dtype(257) == np.int16
    assert label_dtype(40_000) == np.int32


@pytest.mark.parametrize("chunk_rows", [7, 1 << 18])
def test_class_order_is_a_stable_argsort(chunk_rows):
    rng = np.random.default_rng(0)
    y = rng.choice([0, 1, 3], size=1000).astype(np.uint8)  # class 2 has no rows
    order = class_order(y, np.bincount(y), np.int32, chunk_rows=chunk_rows)
    assert order.dtype == np.int32
    np.testing.assert_array_equal(order, np.argsort(y, kind="stable"))


def _split_with_argsort(y, fraction, rng):
    """stratified_split as written before the counting sort and int32 indices."""
    counts = np.bincount(y)
    n_valid = np.clip(np.floor(fraction * counts + 0.5), 0, np.maximum(counts - 1, 0))
    order = rng.permutation(len(y))
    order = order[np.argsort(y[order], kind="stable")]
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    rank = np.arange(len(y)) - starts[y[order]]
    is_valid = rank < n_valid[y[order]]
    return np.sort(order[~is_valid]), np.sort(order[is_valid])


def test_stratified_split_rows_are_those_of_the_argsort_split():
    rng = np.random.default_rng(1)
    y = rng.choice(5, size=5000, p=[0.6, 0.25, 0.1, 0.0498, 0.0002])
    train, valid = stratified_split(y.astype(np.uint8), 0.15, np.random.RandomState(3))
    ref_train, ref_valid = _split_with_argsort(y, 0.15, np.random.RandomState(3))
    assert train.dtype == valid.dtype == np.int32
    np.testing.assert_array_equal(train, ref_train)
    np.testing.assert_array_equal(valid, ref_valid)


def test_stratified_split_refuses_an_empty_validation_fold():
    with pytest.raises(ValueError, match="leaves the validation fold empty"):
        stratified_split(np.array([0, 1]), 0.1, np.random.RandomState(0))


@pytest.mark.parametrize(
    "labels",
    [
        np.array([3, -1, 7, 3, 7, 7]),
        np.array(["b", "a", "c", "a", "c", "c"], dtype=object),
        np.array([2.0, 0.0, 1.0, 2.0, 1.0, 1.0]),
    ],
)
def test_check_X_y_codes_are_np_unique_inverse(labels):
    X = np.zeros((len(labels), 2))
    est = BaseEstimator()
    _, codes = check_X_y(est, X, labels)
    classes, inverse = np.unique(labels, return_inverse=True)
    assert codes.dtype == np.int64
    np.testing.assert_array_equal(est.classes_, classes)
    np.testing.assert_array_equal(codes, inverse)
    _, compact = check_X_y(est, X, labels, compact_labels=True)
    assert compact.dtype == np.uint8
    np.testing.assert_array_equal(compact, inverse)


def test_check_X_y_needs_two_classes():
    with pytest.raises(ValueError, match="at least 2 classes"):
        check_X_y(BaseEstimator(), np.zeros((3, 2)), [1, 1, 1])


def test_take_rows_converts_chunk_by_chunk_into_out():
    X = np.arange(60, dtype=np.float64).reshape(20, 3)
    rows = np.array([19, 0, 5, 5, 7], dtype=np.int32)
    out = np.empty((7, 3), dtype=np.float32)
    take_rows(X, rows, np.float32, chunk_bytes=30, out=out[2:])  # one row a chunk
    np.testing.assert_array_equal(out[2:], X[rows].astype(np.float32))
    np.testing.assert_array_equal(take_rows(X, rows, np.float32), out[2:])


@pytest.mark.parametrize(
    "weights, match",
    [
        (-np.ones(5), "Negative values in data passed to `sample_weight`"),
        (np.ones(7), r"sample_weight.shape == \(7,\), expected \(5,\)!"),
        (np.ones((5, 1)), "Sample weights must be 1D array or scalar, got 2D array"),
        (np.zeros(5), "Sample weights must contain at least one non-zero number"),
        (0, "Sample weights must contain at least one non-zero number"),
        (np.array([1.0, np.nan, 1, 1, 1]), "Input sample_weight contains NaN"),
    ],
)
def test_check_weights_refuses(weights, match):
    with pytest.raises(ValueError, match=match):
        check_weights(weights, np.zeros((5, 2)))


def test_check_weights_float64_or_none_when_equal():
    X = np.zeros((4, 2))
    assert check_weights(None, X) is None
    assert check_weights(2.0, X) is None  # a scalar weighs every row alike
    assert check_weights([3, 3, 3, 3], X) is None
    w = check_weights([1, 2, 0, 1], X)
    assert w.dtype == np.float64 and w.flags.c_contiguous
    assert w.tolist() == [1.0, 2.0, 0.0, 1.0]
