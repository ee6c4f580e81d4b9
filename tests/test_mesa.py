"""MESAClassifier: behaviour, fitted attributes, reproducibility, bad input, ecosystem."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier

from skart import ARTClassifier
from skart.ensemble import MESAClassifier, MetaSampler


@pytest.fixture(scope="module")
def binary():
    X, y = make_classification(
        n_samples=1500, weights=[0.93], flip_y=0.02, class_sep=0.8, random_state=0
    )
    return X, y


@pytest.fixture(scope="module")
def fitted(binary):
    X, y = binary
    return MESAClassifier(n_estimators=6, random_state=0).fit(X, y)


def test_fitted_attributes(fitted, binary):
    X, y = binary
    clf = fitted
    assert len(clf.estimators_) == 6
    assert clf.actions_.shape == (5,)
    assert np.all((clf.actions_ > 0) & (clf.actions_ < 1))
    assert clf.states_.shape == (5, 10)
    np.testing.assert_allclose(clf.states_.sum(axis=1), 10)
    assert clf.validation_scores_.shape == (6,)
    assert isinstance(clf.meta_sampler_, MetaSampler)
    n_min_train = np.bincount(y).min() - round(0.25 * np.bincount(y).min())
    for idx in clf.sample_indices_:
        assert len(idx) == 2 * n_min_train
        assert len(np.unique(idx)) == len(idx)


def test_predict_proba_is_mean_of_members_and_staged(fitted, binary):
    X, _ = binary
    proba = fitted.predict_proba(X)
    members = np.mean([m.predict_proba(X) for m in fitted.estimators_], axis=0)
    np.testing.assert_allclose(proba, members, rtol=0, atol=1e-12)
    staged = list(fitted.staged_predict_proba(X))
    assert len(staged) == 6
    np.testing.assert_array_equal(staged[-1], proba)
    np.testing.assert_array_equal(staged[0], fitted.estimators_[0].predict_proba(X))
    np.testing.assert_array_equal(fitted.classes_[proba.argmax(1)], fitted.predict(X))


@pytest.mark.parametrize("meta_sampler", ["pretrained", "random", "uniform"])
def test_same_random_state_same_actions_and_probabilities(binary, meta_sampler):
    X, y = binary
    a = MESAClassifier(n_estimators=5, meta_sampler=meta_sampler, random_state=3).fit(
        X, y
    )
    b = MESAClassifier(n_estimators=5, meta_sampler=meta_sampler, random_state=3).fit(
        X, y
    )
    np.testing.assert_array_equal(a.actions_, b.actions_)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    for i, j in zip(a.sample_indices_, b.sample_indices_):
        np.testing.assert_array_equal(i, j)
    c = MESAClassifier(n_estimators=5, meta_sampler=meta_sampler, random_state=4).fit(
        X, y
    )
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))


def test_uniform_has_no_actions_and_random_differs_from_pretrained(binary):
    X, y = binary
    uni = MESAClassifier(n_estimators=4, meta_sampler="uniform", random_state=0).fit(
        X, y
    )
    assert np.all(np.isnan(uni.actions_)) and uni.meta_sampler_ is None
    pre = MESAClassifier(n_estimators=4, random_state=0).fit(X, y)
    rnd = MESAClassifier(n_estimators=4, meta_sampler="random", random_state=0).fit(
        X, y
    )
    assert not np.allclose(pre.actions_, rnd.actions_)


def test_unfitted_meta_sampler_is_meta_trained_reproducibly(binary):
    X, y = binary
    sampler = MetaSampler(n_steps=60, start_steps=20, batch_size=16)
    a = MESAClassifier(n_estimators=4, meta_sampler=sampler, random_state=0).fit(X, y)
    b = MESAClassifier(n_estimators=4, meta_sampler=sampler, random_state=0).fit(X, y)
    assert not hasattr(sampler, "weights_")  # the parameter is left untouched
    assert a.meta_sampler_ is not sampler and hasattr(a.meta_sampler_, "weights_")
    np.testing.assert_array_equal(a.actions_, b.actions_)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    # a trained sampler is used as given
    c = MESAClassifier(n_estimators=4, meta_sampler=a.meta_sampler_, random_state=0)
    assert c.fit(X, y).meta_sampler_ is a.meta_sampler_


def test_validation_set_given(binary):
    X, y = binary
    clf = MESAClassifier(n_estimators=3, random_state=0)
    clf.fit(X[:1000], y[:1000], X_val=X[1000:], y_val=y[1000:])
    assert max(i.max() for i in clf.sample_indices_) < 1000
    assert np.sum(y[:1000] == 1) * 2 == len(clf.sample_indices_[0])


def test_multiclass_string_labels_and_pandas():
    pd = pytest.importorskip("pandas")
    X, y = make_classification(
        n_samples=900,
        n_classes=3,
        n_informative=4,
        weights=[0.7, 0.2, 0.1],
        random_state=0,
    )
    labels = np.array(["big", "mid", "small"])[y]
    Xdf = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    clf = MESAClassifier(n_estimators=4, random_state=0).fit(Xdf, labels)
    assert list(clf.classes_) == ["big", "mid", "small"]
    assert set(clf.predict(Xdf)) <= set(clf.classes_)
    assert clf.predict_proba(Xdf).shape == (900, 3)
    # every member sees the smallest class whole and as many rows of the others
    counts = np.bincount(np.searchsorted(clf.classes_, labels))
    n_small = counts[2] - round(0.25 * counts[2])
    for idx in clf.sample_indices_:
        assert len(idx) == 3 * n_small
    assert list(clf.feature_names_in_) == list(Xdf.columns)


def test_callable_metric(binary):
    X, y = binary
    seen = []

    def metric(y_true, proba):
        seen.append(set(np.unique(y_true)))
        return float(np.mean(proba[:, 1][y_true == 1]))

    clf = MESAClassifier(n_estimators=3, metric=metric, random_state=0).fit(X, y)
    assert len(clf.validation_scores_) == 3 and seen[0] == {0, 1}


def test_clone_pickle_pipeline_gridsearch_keep_weights(binary):
    X, y = binary
    weights = MetaSampler.random_weights(random_state=7)
    clf = MESAClassifier(
        DecisionTreeClassifier(),
        n_estimators=3,
        meta_sampler=MetaSampler(weights=weights),
        random_state=0,
    )
    cloned = clone(clf)
    assert cloned.meta_sampler.weights is not None
    np.testing.assert_array_equal(
        cloned.meta_sampler.weights["W_hidden"], weights["W_hidden"]
    )
    clf.fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    search = GridSearchCV(
        make_pipeline(StandardScaler(), clf),
        {
            "mesaclassifier__n_estimators": [2, 3],
            "mesaclassifier__estimator__max_depth": [3, None],
        },
        cv=2,
        scoring="average_precision",
    ).fit(X, y)
    best = search.best_estimator_[-1]
    np.testing.assert_array_equal(
        best.meta_sampler_.weights["W_hidden"], weights["W_hidden"]
    )
    clf.set_params(estimator__max_depth=2)
    assert clf.get_params()["estimator__max_depth"] == 2


def test_art_members():
    X, y = make_classification(n_samples=400, weights=[0.85], random_state=0)
    clf = MESAClassifier(
        ARTClassifier(max_epochs=3, batch_size=32, random_state=0),
        n_estimators=2,
        random_state=0,
    ).fit(X, y)
    assert all(isinstance(m, ARTClassifier) for m in clf.estimators_)
    assert clf.predict_proba(X).shape == (400, 2)
    again = clone(clf).fit(X, y)
    np.testing.assert_allclose(again.predict_proba(X), clf.predict_proba(X), atol=1e-6)


# -- bad input ------------------------------------------------------------


def test_rejects_estimator_without_predict_proba(binary):
    X, y = binary
    with pytest.raises(
        ValueError, match="'estimator' parameter.*predict_proba.*LinearSVC"
    ):
        MESAClassifier(LinearSVC()).fit(X, y)


@pytest.mark.parametrize("sigma", [0, -0.1])
def test_rejects_non_positive_sigma(binary, sigma):
    X, y = binary
    with pytest.raises(ValueError, match="'sigma' parameter.*range \\(0.0, inf\\)"):
        MESAClassifier(sigma=sigma).fit(X, y)


def test_rejects_sampling_ratio_beyond_class_count(binary):
    X, y = binary
    with pytest.raises(
        ValueError, match=r"sampling_ratio=100 asks for \d+ rows.*counts"
    ):
        MESAClassifier(sampling_ratio=100).fit(X, y)
    with pytest.raises(ValueError, match=r"sampling_ratio=0.001 asks for 0 rows"):
        MESAClassifier(sampling_ratio=0.001).fit(X, y)


def test_rejects_sigma_mismatch_with_pretrained(binary):
    X, y = binary
    with pytest.raises(ValueError, match="trained with sigma=0.2 but sigma=0.1"):
        MESAClassifier(sigma=0.1).fit(X, y)
    with pytest.raises(ValueError, match="meta_sampler has sigma=0.3 but sigma=0.2"):
        MESAClassifier(meta_sampler=MetaSampler(sigma=0.3, n_steps=5)).fit(X, y)


def test_rejects_state_size_mismatch(binary):
    X, y = binary
    sampler = MetaSampler(weights=MetaSampler.random_weights(n_bins=4), n_bins=5)
    with pytest.raises(ValueError, match="state of size 8 but n_bins=5.*size 10"):
        MESAClassifier(meta_sampler=sampler).fit(X, y)


def test_rejects_validation_fold_missing_a_class():
    X = np.random.RandomState(0).normal(size=(40, 3))
    y = np.r_[np.zeros(39, dtype=int), 1]
    with pytest.raises(
        ValueError, match=r"validation fold has no rows of classes \[1\]"
    ):
        MESAClassifier().fit(X, y)
    X2, y2 = make_classification(n_samples=200, random_state=0)
    with pytest.raises(ValueError, match=r"no rows of classes \[1\]"):
        MESAClassifier().fit(X2, y2, X_val=X2[y2 == 0], y_val=y2[y2 == 0])


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_estimators": 0}, "'n_estimators' parameter"),
        ({"meta_sampler": "trained"}, "'meta_sampler' parameter"),
        ({"validation_fraction": 1.0}, "'validation_fraction' parameter"),
        ({"metric": "f1"}, "'metric' parameter"),
    ],
)
def test_rejects_bad_parameters(binary, params, match):
    X, y = binary
    with pytest.raises(ValueError, match=match):
        MESAClassifier(**params).fit(X, y)


def test_refuses_what_art_refuses(binary):
    X, y = binary
    with pytest.raises(ValueError, match="at least 2 classes"):
        MESAClassifier().fit(X, np.zeros(len(y)))
    with pytest.raises(ValueError, match="Unknown label type"):
        MESAClassifier().fit(X, np.linspace(0, 1, len(y)))
    with pytest.raises(ValueError, match="Pass both X_val and y_val"):
        MESAClassifier().fit(X, y, X_val=X)
    with pytest.raises(ValueError, match=r"y_val has labels \[7\]"):
        MESAClassifier().fit(X, y, X_val=X[:3], y_val=[0, 1, 7])
    with pytest.raises(ValueError, match="NaN"):
        MESAClassifier().fit(np.full_like(X, np.nan), y)
    clf = MESAClassifier(n_estimators=2, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :3])


# -- sample weights -----------------------------------------------------------


def test_zero_and_one_weights_are_exactly_removing_rows(binary):
    X, y = binary
    keep = np.random.RandomState(1).rand(len(y)) > 0.2
    removed = MESAClassifier(n_estimators=4, random_state=0).fit(X[keep], y[keep])
    weighted = MESAClassifier(n_estimators=4, random_state=0).fit(
        X, y, sample_weight=keep * 1.0
    )
    np.testing.assert_array_equal(weighted.predict_proba(X), removed.predict_proba(X))
    np.testing.assert_array_equal(weighted.actions_, removed.actions_)


def test_integer_weights_act_as_repeated_rows(weighted_problem):
    # Class 1 weighs 4: the predicted share of class 1 moves as far as with
    # repeated rows (0.33 vs 0.36 here, from 0.50 unweighted).
    share = weighted_problem(
        lambda seed: MESAClassifier(n_estimators=4, random_state=seed), range(5)
    )
    mean = {k: np.mean(v) for k, v in share.items()}
    effect = abs(mean["repeated"] - mean["plain"])
    assert effect > 0.05, share
    assert abs(mean["weighted"] - mean["repeated"]) < 0.35 * effect, share


def test_members_get_each_class_the_weight_of_repeated_rows(binary):
    X, y = binary
    X_val, y_val = X[1000:], y[1000:]
    X, y = X[:1000], y[:1000]
    w = np.random.RandomState(0).randint(1, 5, size=len(y)).astype(float)
    clf = MESAClassifier(n_estimators=3, sampling_ratio=1.5, random_state=0)
    clf.fit(X, y, X_val=X_val, y_val=y_val, sample_weight=w)
    mass = np.bincount(y, w)
    expected = np.minimum(mass, 1.5 * mass.min())  # (2,)
    for tree, idx in zip(clf.estimators_, clf.sample_indices_):
        # The root of a tree holds the total weight of its rows, per class.
        root = tree.tree_.value[0, 0] * tree.tree_.weighted_n_node_samples[0]
        np.testing.assert_allclose(root, expected)
        # Rows per class: T / mean weight of the class.
        n_rows = np.bincount(y[idx], minlength=2)
        assert n_rows[0] == round(1.5 * mass.min() / w[y == 0].mean())
        assert n_rows[1] == (y == 1).sum()


def test_weighted_metric_and_members_that_refuse_weights(binary):
    from sklearn.neighbors import KNeighborsClassifier

    X, y = binary
    w = np.where(y == 1, 2.0, 1.0)
    seen = []

    def metric(y_true, proba, sample_weight=None):
        seen.append(sample_weight)
        return float(np.average(proba[:, 1][y_true == 1]))

    MESAClassifier(n_estimators=2, metric=metric, random_state=0).fit(
        X, y, sample_weight=w
    )
    assert seen and all(s is not None and set(np.unique(s)) <= {1.0, 2.0} for s in seen)
    with pytest.raises(ValueError, match="metric must take a sample_weight"):
        MESAClassifier(metric=lambda t, p: 0.0).fit(X, y, sample_weight=w)
    knn = MESAClassifier(KNeighborsClassifier(), n_estimators=2, random_state=0)
    with pytest.raises(ValueError, match="KNeighborsClassifier does not take"):
        knn.fit(X, y, sample_weight=w)
    zero_one = (np.arange(len(y)) % 5 != 0) * 1.0
    knn.fit(X, y, sample_weight=zero_one)  # 0/1 weights: the 0 rows are dropped
    assert sum(len(i) for i in knn.sample_indices_) > 0
    with pytest.raises(ValueError, match=r"Every row of classes \[1\] has"):
        MESAClassifier().fit(X, y, sample_weight=(y == 0) * 1.0)


def test_skops_round_trip_bitwise(fitted, binary, tmp_path):
    # MESA's documented route to a file without pickle (it has no
    # save_fitted: its members are any scikit-learn classifiers).
    sio = pytest.importorskip("skops.io")
    X, _ = binary
    path = tmp_path / "mesa.skops"
    sio.dump(fitted, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert set(untrusted) == {
        f"{cls.__module__}.{cls.__qualname__}" for cls in (MESAClassifier, MetaSampler)
    } | {"sklearn.tree._tree.Tree"}, untrusted
    with pytest.raises(Exception, match="[Uu]ntrusted"):
        sio.load(path)
    loaded = sio.load(path, trusted=untrusted)
    np.testing.assert_array_equal(loaded.predict_proba(X), fitted.predict_proba(X))
