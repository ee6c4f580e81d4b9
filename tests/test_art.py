"""ARTClassifier: ART's resampling, its parameters, and integrations.

The core's contract (input checks, warm start, early stopping, persistence,
weights, the decision rule) runs over every network estimator in test_nn.py
and the files named in conftest.py; this file keeps what ART adds, and the
core behaviours that one plain network shows well enough.
"""

import functools
import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import Pipeline
from imblearn.under_sampling import NearMiss
from sklearn.base import clone
from sklearn.datasets import load_digits, make_classification
from sklearn.metrics import f1_score, fbeta_score
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback
from torch import nn

from skart import ARTClassifier
from skart._params import InvalidParameterError

FAST = {"max_epochs": 15, "lr": 1e-2, "random_state": 0}


@pytest.fixture(scope="module")
def imbalanced():
    X, y = make_classification(
        n_samples=600,
        n_features=8,
        n_informative=5,
        n_classes=3,
        weights=[0.75, 0.2, 0.05],
        random_state=0,
    )
    return X, y


@pytest.fixture(scope="module")
def fitted(imbalanced):
    return ARTClassifier(**FAST).fit(*imbalanced)


# -- fitted state and predictions ---------------------------------------------


def test_history_shows_what_art_did(fitted):
    h = fitted.history_
    row = h[0]
    for key in (
        "train_loss",
        "valid_loss",
        "class_scores",
        "valid_f1",
        "p",
        "art_refresh",
    ):
        assert key in row
    assert len(row["p"]) == len(row["class_scores"]) == 3
    # start: w uniform, blended with the prior at c = 0.5
    prior = fitted.class_counts_ / fitted.class_counts_.sum()
    np.testing.assert_allclose(row["p"], 0.5 * prior + 0.5 / 3)
    assert all(h[:, "art_refresh"])  # bf = 1


def test_art_off_is_the_baseline(imbalanced):
    clf = ARTClassifier(art=False, **FAST).fit(*imbalanced)
    assert "p" not in clf.history_[0]
    assert len(clf.history_[0, "class_scores"]) == 3  # still monitored
    np.testing.assert_allclose(
        clf.sampling_distribution_, clf.class_counts_ / clf.class_counts_.sum()
    )


def test_string_labels_and_dataframe(imbalanced):
    X, y = imbalanced
    labels = np.array(["fraud", "ok", "review"], dtype=object)[y]
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(8)])
    clf = ARTClassifier(**FAST).fit(df, labels)
    assert list(clf.feature_names_in_) == list(df.columns)
    assert set(clf.predict(df)) <= {"fraud", "ok", "review"}
    assert clf.score(df, labels) > 0.7


class TinyCNN(nn.Module):
    def __init__(self, n_classes):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 4, 3),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(2),
            nn.Flatten(),
            nn.Linear(16, n_classes),
        )

    def forward(self, X):
        return self.net(X)


def test_custom_module_on_images():
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).reshape(-1, 1, 8, 8)
    clf = ARTClassifier(TinyCNN, max_epochs=3, random_state=0).fit(X[:400], y[:400])
    assert clf.n_features_in_ == 1
    assert clf.predict(X[400:410]).shape == (10,)
    assert isinstance(clf.net_.module_, TinyCNN)


class CountedCE(nn.CrossEntropyLoss):
    def __init__(self, class_counts=None):
        super().__init__()
        self.class_counts = class_counts


def test_criterion_gets_class_counts(imbalanced):
    clf = ARTClassifier(criterion=CountedCE, **FAST).fit(*imbalanced)
    np.testing.assert_array_equal(clf.net_.criterion_.class_counts, clf.class_counts_)


def test_criterion_instance_gets_class_counts(imbalanced):
    from skart.losses import LDAMLoss

    given = LDAMLoss(scale=2.0)
    clf = ARTClassifier(criterion=given, **FAST).fit(*imbalanced)
    np.testing.assert_array_equal(
        clf.net_.criterion_.class_counts.numpy(), clf.class_counts_
    )
    assert clf.net_.criterion_.scale == 2.0
    assert given.class_counts is None  # the object passed in is untouched


def test_module_instance_is_not_mutated(imbalanced):
    module = nn.Sequential(nn.Linear(8, 3))
    before = [p.detach().clone() for p in module.parameters()]
    ARTClassifier(module, **FAST).fit(*imbalanced)
    for b, p in zip(before, module.parameters()):
        torch.testing.assert_close(b, p)


def test_callable_metric(imbalanced):
    f2 = functools.partial(fbeta_score, beta=2, average=None, zero_division=0)
    clf = ARTClassifier(metric=f2, **FAST).fit(*imbalanced)
    assert 0.0 <= clf.history_[-1, "valid_fbeta_score"] <= 1.0


def test_absent_validation_class_gets_a_neutral_weight():
    # class 2 has 3 rows: round(0.15 * 3) = 0 validation rows, all 3 train
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [300, 100, 3])
    X = rng.normal(size=(403, 4)) + y[:, None]
    clf = ARTClassifier(**FAST).fit(X, y)
    assert clf.class_counts_[2] == 3
    scores = np.array(clf.history_[-1, "class_scores"])
    assert np.isnan(scores[2]) and not np.isnan(scores[:2]).any()
    # its difficulty is the mean of the scored classes, not the maximum
    s = 1 - scores[:2]
    w_absent = s.mean() / (s.sum() + s.mean()) if s.sum() > 0 else 1 / 3
    prior = clf.class_counts_ / clf.class_counts_.sum()
    assert clf.sampling_distribution_[2] == pytest.approx(
        0.5 * prior[2] + 0.5 * w_absent
    )


def test_single_member_class_stays_in_training():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [50, 20, 1])
    clf = ARTClassifier(max_epochs=2, random_state=0).fit(rng.normal(size=(71, 3)), y)
    assert clf.class_counts_[2] == 1


# -- reproducibility and persistence -------------------------------------------


def test_random_state_reproducible(imbalanced, fitted):
    X, _ = imbalanced
    again = ARTClassifier(**FAST).fit(*imbalanced)
    np.testing.assert_array_equal(again.predict_proba(X), fitted.predict_proba(X))


def test_pickle_round_trip(fitted, imbalanced):
    X, _ = imbalanced
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict_proba(X), fitted.predict_proba(X))


def test_clone_keeps_params():
    clf = ARTClassifier(c=0.2, bf=3, module__hidden_units=(9,), random_state=4)
    params = clone(clf).get_params()
    assert (
        params["c"] == 0.2
        and params["bf"] == 3
        and params["module__hidden_units"] == (9,)
    )


# -- integrations ---------------------------------------------------------------


@pytest.mark.parametrize("resampler", [SMOTE(random_state=0), NearMiss(version=1)])
def test_imblearn_pipeline(imbalanced, resampler):
    X, y = imbalanced
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("resample", resampler),
            ("art", ARTClassifier(**FAST)),
        ]
    ).fit(X, y)
    assert f1_score(y, pipe.predict(X), average="macro") > 0.5


def test_grid_search_parallel(imbalanced):
    grid = GridSearchCV(
        ARTClassifier(max_epochs=5, lr=1e-2, random_state=0),
        {"c": [0.3, 0.8], "bf": [1, 2], "module__hidden_units": [(16,), (32, 16)]},
        scoring="f1_macro",
        cv=2,
        n_jobs=2,
    ).fit(*imbalanced)
    assert len(grid.cv_results_["params"]) == 8
    assert np.all(np.isfinite(grid.cv_results_["mean_test_score"]))
    assert grid.best_estimator_.net_.module_.layers[1].out_features in (16, 32)


def test_cross_val_score(imbalanced):
    scores = cross_val_score(
        ARTClassifier(**FAST), *imbalanced, cv=3, scoring="f1_macro"
    )
    assert scores.shape == (3,) and np.all(scores > 0.4)


# -- output ---------------------------------------------------------------------


def test_silent_by_default(imbalanced, capsys):
    ARTClassifier(max_epochs=2, random_state=0).fit(*imbalanced)
    assert capsys.readouterr().out == ""


def test_verbose_prints_epoch_table(imbalanced, capsys):
    ARTClassifier(max_epochs=2, verbose=1, random_state=0).fit(*imbalanced)
    out = capsys.readouterr().out
    assert "valid_f1" in out and "art" in out and "train_loss" in out


# -- ART's parameters ----------------------------------------------------------------


@pytest.mark.parametrize(
    "params, match",
    [
        (
            {"c": 1.5},
            r"'c' parameter of ARTClassifier must be a float in the range \[0.0, 1.0\]",
        ),
        ({"c": -0.1}, "'c' parameter"),
        (
            {"bf": 0},
            r"'bf' parameter of ARTClassifier must be an int in the range \[1, inf\)",
        ),
    ],
)
def test_bad_parameters(imbalanced, params, match):
    with pytest.raises(InvalidParameterError, match=match):
        ARTClassifier(**params).fit(*imbalanced)


# -- real data ----------------------------------------------------------------------


def _pima(shared_data):
    raw = np.loadtxt(shared_data / "pima" / "pima-indians-diabetes.data", delimiter=",")
    return StandardScaler().fit_transform(raw[:, :8]), raw[:, 8].astype(int)


def test_pima_sanity(shared_data):
    """ART and the baseline both learn Pima; the margin between them is noise-sized."""
    from sklearn.model_selection import train_test_split

    X, y = _pima(shared_data)
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=0
    )
    f1 = {}
    for art in (True, False):
        f1[art] = np.mean(
            [
                f1_score(
                    y_te,
                    ARTClassifier(art=art, random_state=s)
                    .fit(X_tr, y_tr)
                    .predict(X_te),
                    average="macro",
                )
                for s in range(3)
            ]
        )
    print(f"Pima macro-F1 over 3 seeds: ART {f1[True]:.3f}, baseline {f1[False]:.3f}")
    assert f1[True] > 0.65 and f1[False] > 0.65


def test_explicit_validation_set(imbalanced):
    X, y = imbalanced
    clf = ARTClassifier(**FAST).fit(X[:500], y[:500], X_val=X[500:], y_val=y[500:])
    np.testing.assert_array_equal(clf.class_counts_, np.bincount(y[:500]))
    # the scores are those of the given validation rows
    assert np.isfinite(clf.history_[-1, "class_scores"]).all()


def test_verbose_two_adds_a_progress_bar(imbalanced):
    clf = ARTClassifier(max_epochs=1, verbose=2, random_state=0).fit(*imbalanced)
    assert "progress_bar" in dict(clf.net_.callbacks_)


def test_gradient_callbacks_and_closure_optimisers_take_skorchs_step(imbalanced):
    from skorch.callbacks import GradientNormClipping

    class CountGradients(Callback):
        def initialize(self):
            self.calls = 0
            return self

        def on_grad_computed(self, net, named_parameters, **kwargs):
            self.calls += 1

    counter = CountGradients()
    clf = ARTClassifier(
        max_epochs=2,
        callbacks=[("count", counter), GradientNormClipping(1.0)],
        random_state=0,
    ).fit(*imbalanced)
    n_batches = sum(clf.history_[:, "train_batch_count"])
    assert dict(clf.net_.callbacks_)["count"].calls == n_batches
    # LBFGS needs the closure; without it, its step raises
    lbfgs = ARTClassifier(optimizer=torch.optim.LBFGS, max_epochs=2, random_state=0)
    assert np.isfinite(lbfgs.fit(*imbalanced).history_[:, "train_loss"]).all()


# -- warm start -------------------------------------------------------------------


def test_warm_start_continues_the_network(imbalanced):
    X, y = imbalanced
    clf = ARTClassifier(max_epochs=4, patience=None, warm_start=True, random_state=0)
    clf.fit(X, y)
    proba, p = clf.predict_proba(X), clf.sampling_distribution_.copy()
    steps = clf.net_.optimizer_.state_dict()["state"][0]["step"].item()
    # A learning rate too small to move the weights: the continued net
    # predicts what the first fit did, a fresh one would not.
    clf.set_params(lr=1e-12, max_epochs=2).fit(X, y)
    np.testing.assert_allclose(clf.predict_proba(X), proba, atol=1e-6)
    assert clf.n_iter_ == len(clf.history_) == 6
    np.testing.assert_allclose(clf.history_[4, "p"], p)  # ART goes on from its p
    assert clf.net_.optimizer_.state_dict()["state"][0]["step"].item() > steps
    assert clf.history_[-1, "event_lr"] == pytest.approx(1e-12)  # a new cycle
    fresh = clone(clf).set_params(warm_start=False).fit(X, y)
    assert np.abs(fresh.predict_proba(X) - proba).max() > 1e-2


def test_predict_shows_progress_at_verbose_2(fitted, imbalanced, capsys):
    X, _ = imbalanced
    quiet = fitted.predict_proba(X)
    assert capsys.readouterr().err == ""
    loud = clone(fitted).set_params(verbose=2)
    loud.net_, loud.classes_, loud.n_features_in_ = (
        fitted.net_,
        fitted.classes_,
        fitted.n_features_in_,
    )
    np.testing.assert_array_equal(loud.predict_proba(X), quiet)
    assert "ARTClassifier.predict_proba" in capsys.readouterr().err


# -- host syncs -------------------------------------------------------------------


def test_fit_and_predict_on_device(imbalanced, device):
    X, y = imbalanced
    clf = ARTClassifier(**{**FAST, "device": device}).fit(X, y)
    assert {p.device.type for p in clf.net_.module_.parameters()} == {device}
    proba = clf.predict_proba(X)
    assert isinstance(proba, np.ndarray) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert set(clf.predict(X)) <= set(clf.classes_)
    assert len(clf.history_) == clf.n_iter_


@pytest.mark.cuda
def test_no_per_batch_host_sync_on_cuda(imbalanced):
    if not torch.cuda.is_available():
        pytest.skip("CUDA is not available")
    import warnings

    X, y = imbalanced

    def syncs(batch_size):
        clf = ARTClassifier(
            max_epochs=3, patience=None, batch_size=batch_size, device="cuda"
        )
        torch.cuda.set_sync_debug_mode("warn")
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                clf.fit(X, y)
        finally:
            torch.cuda.set_sync_debug_mode("default")
        return sum("synchroniz" in str(w.message) for w in caught)

    # Eight times the batches per epoch, the same number of syncs: they
    # happen per epoch (history, ART's refresh), not per batch.
    assert syncs(16) == syncs(128)
