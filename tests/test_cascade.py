"""Known answers for the MESA cascade: Gaussian weights, state, subsets, running mean."""

import numpy as np
import pytest
from sklearn.metrics import average_precision_score
from sklearn.tree import DecisionTreeClassifier

from skart.ensemble._cascade import (
    Cascade,
    average_precision,
    binary_average_precision,
    error_histogram,
    errors,
    gaussian_weight,
    meta_state,
    sample_subset,
)


def test_gaussian_weight_known_values():
    assert gaussian_weight(0.2, 0.2, 0.2) == pytest.approx(
        1 / (0.2 * np.sqrt(2 * np.pi))
    )
    assert gaussian_weight(0.2, 0.2, 0.2) == pytest.approx(1.99471, abs=1e-5)
    # one sigma away: exp(-1/2) of the peak
    assert gaussian_weight(0.4, 0.2, 0.2) == pytest.approx(
        1.99471 * np.exp(-0.5), abs=1e-5
    )


def test_errors_are_one_minus_true_class_probability():
    proba = np.array([[0.9, 0.1], [0.3, 0.7], [0.2, 0.8]])
    y = np.array([0, 0, 1])
    np.testing.assert_allclose(errors(proba, y), [0.1, 0.7, 0.2])
    # binary: equals |F(x) - y| with F = p(class 1)
    np.testing.assert_allclose(errors(proba, y), np.abs(proba[:, 1] - y))


def test_error_histogram_fixed_bins_last_closed():
    hist = error_histogram(np.array([0, 0.1, 0.2, 0.999, 1.0]), 5)
    np.testing.assert_allclose(hist, np.array([2, 1, 0, 0, 2]) * 5 / 5)
    rng = np.random.default_rng(0)
    state = meta_state(rng.uniform(size=50), rng.uniform(size=20), 5)
    assert state.shape == (10,)
    assert state[:5].sum() == pytest.approx(5)
    assert state[5:].sum() == pytest.approx(5)


# The uniform draw's mean has a standard error of about 0.009 (1000 of 10 000
# U(0, 1) errors), so its tolerance is three of those.
@pytest.mark.parametrize(
    "mu, expected, tol", [(0.9, 0.9, 0.01), (0.1, 0.1, 0.01), (None, 0.5, 0.03)]
)
def test_sampling_concentrates_around_mu(mu, expected, tol):
    rng = np.random.RandomState(0)
    y = np.r_[np.zeros(10_000, dtype=int), np.ones(1000, dtype=int)]
    err = rng.uniform(size=len(y))
    idx = sample_subset(y, err, 1000, mu, 0.05, rng)
    drawn_majority = idx[y[idx] == 0]
    assert abs(err[drawn_majority].mean() - expected) < tol


def test_subset_all_minority_right_count_without_replacement():
    rng = np.random.RandomState(1)
    y = np.r_[np.zeros(500, dtype=int), np.ones(40, dtype=int)]
    idx = sample_subset(y, rng.uniform(size=len(y)), 40, 0.3, 0.2, rng)
    assert len(np.unique(idx)) == len(idx)  # without replacement
    np.testing.assert_array_equal(np.sort(idx[y[idx] == 1]), np.flatnonzero(y == 1))
    assert np.sum(y[idx] == 0) == 40


def test_subset_multiclass_classes_above_target_cut_smaller_kept():
    rng = np.random.RandomState(2)
    y = np.repeat([0, 1, 2, 3], [300, 30, 45, 20])
    idx = sample_subset(y, rng.uniform(size=len(y)), 40, 0.5, 0.2, rng)
    counts = np.bincount(y[idx])
    np.testing.assert_array_equal(counts, [40, 30, 40, 20])


def test_running_mean_equals_recomputed_mean():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(400, 4))
    y = (X[:, 0] + 0.5 * rng.normal(size=400) > 1.2).astype(int)
    cascade = Cascade(
        DecisionTreeClassifier(max_depth=3),
        X[:300],
        y[:300],
        X[300:],
        y[300:],
        n_classes=2,
        n_bins=5,
        sigma=0.2,
        target=int(np.bincount(y[:300]).min()),
        scorer=lambda yt, p: average_precision(yt, p, 1),
        rng=rng,
    )
    cascade.step()
    rewards = [cascade.scores[0]]
    for mu in (0.2, 0.8, 0.5, 0.1):
        rewards.append(cascade.step(mu))
    mean_tr = np.mean([m.predict_proba(X[:300]) for m in cascade.members], axis=0)
    mean_va = np.mean([m.predict_proba(X[300:]) for m in cascade.members], axis=0)
    np.testing.assert_allclose(cascade.proba_tr, mean_tr, rtol=0, atol=1e-12)
    np.testing.assert_allclose(cascade.proba_va, mean_va, rtol=0, atol=1e-12)
    # rewards telescope to the final score
    assert sum(rewards) == pytest.approx(cascade.scores[-1])


def test_average_precision_equals_scikit_learn():
    rng = np.random.RandomState(0)
    for n_classes in (2, 4):
        y = rng.randint(n_classes, size=300)
        # rounded probabilities: many ties between rows
        proba = np.round(rng.dirichlet(np.ones(n_classes), size=300), 1)
        onehot = y[:, None] == np.arange(n_classes)
        for c in range(n_classes):
            assert binary_average_precision(onehot[:, c], proba[:, c]) == pytest.approx(
                average_precision_score(onehot[:, c], proba[:, c]), abs=1e-12
            )
        expected = (
            average_precision_score(y == 1, proba[:, 1])
            if n_classes == 2
            else average_precision_score(onehot, proba, average="macro")
        )
        assert average_precision(y, proba, 1) == pytest.approx(expected, abs=1e-12)
