"""Sample weights: equal weights change nothing, zero weights remove rows, integer
weights repeat them (in distribution), weights reach AdaBoost and metadata
routing, and class_weight is the sample weights of its classes; for every
network estimator of the list in conftest.py, and MESA."""

import numpy as np
import pytest
import sklearn
import torch
from conftest import NETWORK_ESTIMATORS, NetworkEstimator
from scipy import stats
from sklearn.datasets import make_classification
from sklearn.ensemble import AdaBoostClassifier
from sklearn.model_selection import cross_validate
from sklearn.utils.class_weight import compute_sample_weight

from skart import ARTClassifier, ClassDistributionSampler
from skart._metrics import class_scores
from skart._validation import stratified_split
from skart.ensemble import MESAClassifier

# MESA takes weights too: the tests that do not look inside a network run on it.
MESA = NetworkEstimator(
    "mesa", MESAClassifier, {"n_estimators": 4, "random_state": 0}, changed={}
)


@pytest.fixture(params=[*NETWORK_ESTIMATORS, MESA], ids=repr)
def weighted_estimator(request):
    """An entry of the network list, or MESA's."""
    return request.param


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=500,
        n_features=6,
        n_informative=4,
        n_classes=3,
        weights=[0.7, 0.2, 0.1],
        random_state=0,
    )
    return X, y


def test_equal_weights_give_bitwise_the_unweighted_model(data, weighted_estimator):
    X, y = data
    plain = weighted_estimator().fit(X, y)
    weighted = weighted_estimator().fit(X, y, sample_weight=np.full(len(y), 2.5))
    np.testing.assert_array_equal(plain.predict_proba(X), weighted.predict_proba(X))
    if hasattr(plain, "net_"):
        assert plain.history_[:, "valid_loss"] == weighted.history_[:, "valid_loss"]


def test_sampler_draws_rows_in_proportion_to_weight():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=40)
    w = rng.integers(0, 4, size=40).astype(float)
    w[y == 2] = 0.0  # a class with only weight-0 rows
    sampler = ClassDistributionSampler(y, sample_weight=w, random_state=0)
    np.testing.assert_allclose(sampler.p, np.bincount(y, w, 3) / w.sum())
    assert sampler.p[2] == 0.0
    counts = np.zeros(40)
    for _ in range(500):
        counts += np.bincount(sampler.sample_indices(), minlength=40)
    assert counts[w == 0].sum() == 0  # weight 0: never drawn
    # Integer weights draw like repeated rows: chi-square against w / sum(w).
    expected = counts.sum() * w[w > 0] / w.sum()
    assert stats.chisquare(counts[w > 0], expected).pvalue > 1e-3
    with pytest.raises(ValueError, match="only rows of weight 0"):
        sampler.set_distribution([0.2, 0.4, 0.4])


def test_sampler_integer_weights_match_repeated_rows():
    # The same pass drawn from the weighted rows and from the repeated rows
    # (mapped back to the row each copy came from) follows one distribution.
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, size=12)
    w = rng.integers(1, 4, size=12)
    weighted = ClassDistributionSampler(y, sample_weight=w, random_state=0)
    origin = np.repeat(np.arange(12), w)
    repeated = ClassDistributionSampler(y[origin], random_state=1)
    # Each draw is independent, from row i with probability w_i / sum(w).
    a = sum(np.bincount(weighted.sample_indices(), minlength=12) for _ in range(300))
    b = sum(
        np.bincount(origin[repeated.sample_indices()], minlength=12) for _ in range(150)
    )
    table = np.vstack([a, b])
    assert stats.chi2_contingency(table).pvalue > 1e-3


def test_weighted_class_scores_equal_repeated_rows():
    rng = np.random.default_rng(2)
    y_true = torch.from_numpy(rng.integers(0, 3, 50))
    y_pred = torch.from_numpy(rng.integers(0, 3, 50))
    w = rng.integers(0, 4, 50)
    origin = torch.from_numpy(np.repeat(np.arange(50), w))
    for metric in ("f1", "recall", "precision"):
        np.testing.assert_allclose(
            class_scores(y_true, y_pred, 3, metric, torch.from_numpy(w.astype(float))),
            class_scores(y_true[origin], y_pred[origin], 3, metric),
        )


def test_weighted_validation_loss_is_the_weighted_mean(data, network_estimator):
    # Every method's net weighs the validation rows (AutoSMOTE's has a
    # get_loss of its own), and puts the criterion's reduction back.
    X, y = data
    net = network_estimator(max_epochs=1).fit(X, y).net_
    logits = torch.randn(30, 3)
    target = torch.randint(0, 3, (30,))
    w = torch.rand(30, dtype=torch.float64).float()
    net.valid_sample_weight = w
    net._valid_row = 0
    # Two batches, as skorch averages them: by batch size.
    first = net.get_loss(logits[:20], target[:20], training=False)
    second = net.get_loss(logits[20:], target[20:], training=False)
    epoch = (20 * first + 10 * second) / 30
    per_row = torch.nn.functional.cross_entropy(logits, target, reduction="none")
    torch.testing.assert_close(epoch, (w * per_row).sum() / w.sum())
    assert net.criterion_.reduction == "mean"  # restored


def test_adaboost_boosts_art(data):
    X, y = data
    boost = AdaBoostClassifier(
        ARTClassifier(max_epochs=5, lr=1e-2), n_estimators=3, random_state=0
    ).fit(X, y)
    assert len(boost.estimators_) == 3
    assert all(isinstance(e, ARTClassifier) for e in boost.estimators_)
    assert boost.score(X, y) > 0.8


@pytest.mark.parametrize(
    "weights, match",
    [
        (-np.ones(500), "Negative values in data passed to `sample_weight`"),
        (np.ones(7), r"sample_weight.shape == \(7,\), expected \(500,\)"),
        (np.zeros(500), "Sample weights must contain at least one non-zero number"),
    ],
)
def test_bad_weights(data, weighted_estimator, weights, match):
    with pytest.raises(ValueError, match=match):
        weighted_estimator().fit(*data, sample_weight=weights)


def test_weightless_validation_fold_is_refused(data, network_estimator):
    X, y = data
    est = network_estimator()
    # The split random_state=0 draws: its validation rows get weight 0.
    _, valid = stratified_split(y, est.validation_fraction, np.random.RandomState(0))
    w = np.ones(500)
    w[valid] = 0.0
    with pytest.raises(ValueError, match="Every row of the validation fold"):
        est.fit(X, y, sample_weight=w)


def test_weights_change_the_model(data, weighted_estimator):
    X, y = data
    w = np.where(y == 2, 3.0, 1.0)
    plain = weighted_estimator().fit(X, y)
    weighted = weighted_estimator().fit(X, y, sample_weight=w)
    assert np.abs(plain.predict_proba(X) - weighted.predict_proba(X)).max() > 1e-3


def test_set_fit_request_routes_the_weights(data, weighted_estimator):
    X, y = data
    w = np.where(y == 2, 3.0, 1.0)
    with sklearn.config_context(enable_metadata_routing=True):
        est = weighted_estimator().set_fit_request(sample_weight=True)
        est.set_score_request(sample_weight=False)
        routed = cross_validate(est, X, y, cv=2, params={"sample_weight": w})
    plain = cross_validate(weighted_estimator(), X, y, cv=2)
    assert est.get_metadata_routing().fit.requests["sample_weight"] is True
    assert not np.array_equal(routed["test_score"], plain["test_score"])


# -- statistical tests, every network ---------------------------------------------


def _flipped_region(seed=3):
    X, y = make_classification(
        n_samples=900, n_features=5, n_informative=3, n_redundant=0, random_state=seed
    )
    X_test, y_test = X[600:], y[600:]
    X, y = X[:600], y[:600].copy()
    corrupt = X[:, 0] > 0.3  # a region whose labels are flipped
    return X, y, np.where(corrupt, 1 - y, y), corrupt, X_test, y_test


def test_zero_weights_act_as_removing_rows(network_estimator):
    X, y, y_bad, corrupt, X_test, y_test = _flipped_region()
    params = network_estimator.learns
    removed = network_estimator(**params).fit(X[~corrupt], y[~corrupt])
    weighted = network_estimator(**params).fit(X, y_bad, sample_weight=(~corrupt) * 1.0)
    everything = network_estimator(**params).fit(X, y_bad)
    acc = {
        "removed": removed.score(X_test, y_test),
        "weighted": weighted.score(X_test, y_test),
        "all": everything.score(X_test, y_test),
    }
    assert abs(acc["weighted"] - acc["removed"]) < 0.05, acc
    assert acc["weighted"] > acc["all"] + 0.1, acc


def test_integer_weights_act_as_repeated_rows(network_estimator, weighted_problem):
    # Class 1 weighs 4: the weighted fit should move the predicted share of
    # class 1 as far as repeating its rows does, and much farther than the
    # run-to-run noise between seeds.
    params = network_estimator.learns
    share = weighted_problem(
        lambda seed: network_estimator(**{**params, "random_state": seed}), range(3)
    )
    mean = {k: np.mean(v) for k, v in share.items()}
    effect = abs(mean["repeated"] - mean["plain"])
    assert abs(mean["weighted"] - mean["repeated"]) < 0.35 * effect, share


# -- class_weight: the sample weights of its classes ----------------------------


@pytest.mark.parametrize(
    "class_weight, weighted",
    [("balanced", False), ({"a": 0.5, "c": 4.0}, False), ("balanced", True)],
    ids=["balanced", "dict", "balanced_times_sample_weight"],
)
def test_class_weight_is_its_sample_weights(
    data, network_estimator, class_weight, weighted
):
    # As scikit-learn's classifiers weigh rows: class_weight gives bitwise the
    # model of sample_weight=compute_sample_weight(class_weight, y), and it
    # multiplies the sample weights given with it ("b" is missing: weight 1).
    X, y = data
    y = np.array(["a", "b", "c"])[y]
    w = np.random.RandomState(0).uniform(0.5, 2.0, len(y)) if weighted else None
    expected = compute_sample_weight(class_weight, y)
    if w is not None:
        expected = w * expected
    by_class = network_estimator(class_weight=class_weight).fit(X, y, sample_weight=w)
    by_rows = network_estimator().fit(X, y, sample_weight=expected)
    np.testing.assert_array_equal(by_class.predict_proba(X), by_rows.predict_proba(X))
    assert by_class.history_[:, "valid_loss"] == by_rows.history_[:, "valid_loss"]


def test_class_weight_key_that_is_not_a_class_is_refused(data, network_estimator):
    X, y = data
    est = network_estimator(class_weight={0: 1.0, 3: 2.0, "0": 1.0})
    with pytest.raises(
        ValueError,
        match=r"class_weight has keys \[3, '0'\] that are not classes of y; "
        r"the classes are \[0, 1, 2\]",
    ):
        est.fit(X, y)
