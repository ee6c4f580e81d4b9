"""``monitor`` on a probability score: skart's three (average precision,
ROC AUC, log loss), scikit-learn's scorers and callables, recorded in the
history from the validation pass and read by early stopping and the best
epoch, on every network estimator."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import (
    adjusted_rand_score,
    average_precision_score,
    balanced_accuracy_score,
    brier_score_loss,
    log_loss,
    roc_auc_score,
)
from skorch.callbacks import Callback, EarlyStopping
from skorch.history import History
from torch import nn

import skart
from skart import ARTClassifier
from skart._nn._callbacks import ProbaScoring, ScoreStopping, proba_score
from skart._params import InvalidParameterError

LABELS = np.array(["low", "mid", "high"], dtype=object)
# patience=None: the fitted network is the last epoch's.
FAST = {"lr": 1e-2, "random_state": 0, "module__hidden_units": (16,), "patience": None}


def mean_true_proba(y_true, proba):
    """A callable monitor: the mean probability of each row's own class."""
    return float(proba[np.arange(len(y_true)), y_true].mean())


@pytest.fixture(scope="module")
def binary():
    """Noisy binary rows (20 % positive) and a held-out validation set."""
    X, y = make_classification(
        n_samples=400,
        n_features=6,
        n_informative=3,
        weights=[0.8],
        flip_y=0.1,
        random_state=0,
    )
    y = np.array(["neg", "pos"], dtype=object)[y]
    return X[:280], y[:280], X[280:], y[280:]


@pytest.fixture(scope="module")
def three():
    """300 noisy rows, three string classes (60/30/10 %), the last 80 held out."""
    X, y = make_classification(
        n_samples=300,
        n_features=6,
        n_informative=4,
        n_classes=3,
        weights=[0.6, 0.3, 0.1],
        flip_y=0.15,
        random_state=0,
    )
    y = LABELS[y]
    return X[:220], y[:220], X[220:], y[220:]


def _fit(estimator, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # AutoSMOTE's small classes
        return estimator.fit(X, y, **kwargs)


def expected_score(monitor, classes, y_val, proba):
    """``monitor`` on the validation set, from scikit-learn's own functions."""
    y_enc = np.searchsorted(classes, y_val)
    if callable(monitor):
        return monitor(y_enc, proba)
    if len(classes) > 2 and monitor in ("average_precision", "roc_auc"):
        func = {"average_precision": average_precision_score, "roc_auc": roc_auc_score}
        return np.mean([func[monitor](y_enc == k, proba[:, k]) for k in range(3)])
    return {
        "average_precision": lambda: average_precision_score(y_enc == 1, proba[:, 1]),
        "roc_auc": lambda: roc_auc_score(y_enc == 1, proba[:, 1]),
        "log_loss": lambda: log_loss(y_enc, proba, labels=range(len(classes))),
        "balanced_accuracy": lambda: balanced_accuracy_score(
            y_enc, proba.argmax(axis=1)
        ),
        "neg_brier_score": lambda: -brier_score_loss(y_enc == 1, proba[:, 1]),
    }[monitor]()


# -- the recorded score ------------------------------------------------------------


@pytest.mark.parametrize(
    "monitor, key",
    [
        ("average_precision", "valid_average_precision"),
        ("roc_auc", "valid_roc_auc"),
        ("log_loss", "valid_log_loss"),
        ("balanced_accuracy", "valid_balanced_accuracy"),
        ("neg_brier_score", "valid_neg_brier_score"),
        (mean_true_proba, "valid_mean_true_proba"),
    ],
    ids=lambda v: getattr(v, "__name__", v),
)
def test_score_is_recorded_as_the_fitted_network_scores(binary, monitor, key):
    # Without patience the fitted network is the last epoch's: scoring its
    # predict_proba on the validation set gives what the history recorded.
    X, y, X_val, y_val = binary
    clf = ARTClassifier(max_epochs=3, monitor=monitor, **FAST)
    clf.fit(X, y, X_val=X_val, y_val=y_val)
    scores = clf.history_[:, key]
    assert len(scores) == 3 and np.isfinite(scores).all()
    expected = expected_score(monitor, clf.classes_, y_val, clf.predict_proba(X_val))
    assert scores[-1] == pytest.approx(expected, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("monitor", ["average_precision", "roc_auc"])
def test_multiclass_scores_are_macro_one_vs_rest(three, monitor):
    X, y, X_val, y_val = three
    clf = ARTClassifier(max_epochs=2, monitor=monitor, **FAST)
    clf.fit(X, y, X_val=X_val, y_val=y_val)
    proba = clf.predict_proba(X_val)
    expected = expected_score(monitor, clf.classes_, y_val, proba)
    assert clf.history_[-1, f"valid_{monitor}"] == pytest.approx(expected, rel=1e-12)
    if monitor == "roc_auc":  # scikit-learn's own macro one-vs-rest
        y_enc = np.searchsorted(clf.classes_, y_val)
        ovr = roc_auc_score(y_enc, proba, multi_class="ovr", average="macro")
        assert expected == pytest.approx(ovr, rel=1e-12)


class _ValidationFold(Callback):
    """Keeps the fit's validation rows and their weights (test only)."""

    def on_train_begin(self, net, **kwargs):
        fold = net.train_split.keywords["valid_ds"]  # skorch's predefined_split
        self.X = fold.X.cpu().numpy().copy()
        self.y = fold.y.cpu().numpy().copy()
        self.w = net.valid_sample_weight.cpu().numpy().copy()


@pytest.mark.parametrize("monitor", ["average_precision", "neg_log_loss"])
def test_validation_weights_are_honoured(binary, monitor):
    X, y, _, _ = binary
    w = np.random.RandomState(0).uniform(0.1, 3.0, len(y))
    clf = ARTClassifier(
        max_epochs=2, monitor=monitor, callbacks=[("fold", _ValidationFold())], **FAST
    )
    clf.fit(X, y, sample_weight=w)
    fold = dict(clf.net_.callbacks_)["fold"]
    proba = clf.predict_proba(fold.X)
    if monitor == "average_precision":
        expected = average_precision_score(
            fold.y == 1, proba[:, 1], sample_weight=fold.w
        )
        unweighted = average_precision_score(fold.y == 1, proba[:, 1])
    else:
        expected = -log_loss(fold.y, proba, sample_weight=fold.w)
        unweighted = -log_loss(fold.y, proba)
    recorded = clf.history_[-1, f"valid_{monitor}"]
    assert recorded == pytest.approx(expected, rel=1e-12)
    assert recorded != pytest.approx(unweighted, rel=1e-6)


def test_proba_score_weights_scorers_and_callables():
    rng = np.random.RandomState(0)
    proba = rng.dirichlet([1, 1, 1], size=40)
    y = rng.randint(0, 2, 40)  # class 2 has no row: left out of the macro mean
    w = rng.uniform(0.5, 2, 40)
    ap = [average_precision_score(y == k, proba[:, k], sample_weight=w) for k in (0, 1)]
    assert proba_score("average_precision", y, proba, w) == pytest.approx(np.mean(ap))
    # A callable gets the weights when it takes them.
    seen = {}

    def weighted(y_true, proba, sample_weight=None):
        seen["w"] = sample_weight
        return 0.5

    assert proba_score(weighted, y, proba, w) == 0.5 and seen["w"] is w
    assert proba_score(mean_true_proba, y, proba, w) == mean_true_proba(y, proba)
    # A scorer whose metric takes no weights scores unweighted, and says so.
    with pytest.warns(UserWarning, match="takes no sample_weight"):
        got = proba_score("adjusted_rand_score", y, proba, w)
    assert got == adjusted_rand_score(y, proba.argmax(axis=1))


def test_default_monitor_adds_no_callback(binary):
    X, y, X_val, y_val = binary
    clf = ARTClassifier(max_epochs=1, **FAST).fit(X, y, X_val=X_val, y_val=y_val)
    assert "monitor" not in dict(clf.net_.callbacks_)
    recorded = {k for k in clf.history_[-1] if k.startswith("valid_")}
    assert recorded == {
        "valid_loss",
        "valid_loss_best",
        "valid_f1",
        "valid_batch_count",
    }


# -- early stopping and the best epoch ----------------------------------------------


class _RunStarts(Callback):
    """Records the history length at each training run's start."""

    def initialize(self):
        self.starts = []
        return self

    def on_train_begin(self, net, **kwargs):
        self.starts.append(len(net.history))


@pytest.mark.parametrize(
    "monitor, best", [("average_precision", np.argmax), ("log_loss", np.argmin)]
)
def test_patience_stops_and_keeps_the_best_epoch(binary, monitor, best):
    X, y, X_val, y_val = binary
    clf = ARTClassifier(
        max_epochs=40, monitor=monitor, **{**FAST, "lr": 3e-2, "patience": 3}
    )
    clf.fit(X, y, X_val=X_val, y_val=y_val)
    stopping = dict(clf.net_.callbacks_)["early_stopping"]
    assert isinstance(stopping, ScoreStopping)
    assert stopping.monitor == f"valid_{monitor}"
    assert stopping.lower_is_better == (monitor == "log_loss")
    scores = np.array(clf.history_[:, f"valid_{monitor}"])
    assert clf.n_iter_ < 40  # it stopped, patience epochs after the best
    assert stopping.best_epoch_ == best(scores) + 1 == clf.n_iter_ - 3
    # The fitted network is the best epoch's: it scores what that epoch did.
    proba = clf.predict_proba(X_val)
    got = expected_score(monitor, clf.classes_, y_val, proba)
    assert got == pytest.approx(scores[stopping.best_epoch_ - 1], rel=1e-12)


def _run(rule, scores):
    class FakeNet:
        module_ = nn.Linear(2, 2)
        verbose = 0

    net = FakeNet()
    net.history = History()
    rule.on_train_begin(net)
    for epoch, score in enumerate(scores, start=1):
        net.history.new_epoch()
        net.history.record("epoch", epoch)
        net.history.record("valid_neg_brier_score", score)
        try:
            rule.on_epoch_end(net)
        except KeyboardInterrupt:
            break
    return rule.best_epoch_


def test_relative_threshold_holds_for_negative_scores():
    # Epoch 2 is worse than epoch 1; skorch's relative threshold (score *
    # (1 + 1e-4)) lies below a negative score, so it took epoch 2 as the best.
    scores = [-0.1, -0.100005, -0.2, -0.2]
    kwargs = {
        "monitor": "valid_neg_brier_score",
        "lower_is_better": False,
        "patience": 2,
    }
    assert _run(EarlyStopping(**kwargs), scores) == 2
    assert _run(ScoreStopping(**kwargs), scores) == 1
    # A real improvement still counts.
    assert _run(ScoreStopping(**kwargs), [-0.1, -0.09, -0.2, -0.2]) == 2


def test_every_network_estimator(network_estimator, three):
    # Recorded in every epoch of every training run, read by early stopping,
    # and the fitted network is the best epoch's (of the last run). Noisy
    # rows and a large step: most of these runs stop after an earlier best.
    X, y, X_val, y_val = three
    clf = network_estimator(
        monitor="roc_auc",
        patience=2,
        max_epochs=20,
        lr=0.05,
        callbacks=[("starts", _RunStarts())],
    )
    _fit(clf, X, y, X_val=X_val, y_val=y_val)
    callbacks = dict(clf.net_.callbacks_)
    stopping = callbacks["early_stopping"]
    assert stopping.monitor == "valid_roc_auc"
    scores = np.array(clf.history_[:, "valid_roc_auc"])
    assert len(scores) == clf.n_iter_ and np.isfinite(scores).all()
    start = callbacks["starts"].starts[-1]
    # EGA's own monitor keeps the best epoch; early stopping only stops.
    keeper = callbacks["ega"] if clf._keeps_best_epoch else stopping
    assert keeper.monitor == "valid_roc_auc"
    best = keeper.best_epoch_
    assert scores[best - 1] == scores[start:].max()
    proba = clf.predict_proba(X_val)
    got = expected_score("roc_auc", clf.classes_, y_val, proba)
    assert got == pytest.approx(scores[best - 1], rel=1e-12)


# -- errors and undefined scores ----------------------------------------------------


def test_unknown_monitor_is_refused_listing_the_accepted_forms(binary):
    X, y, _, _ = binary
    match = (
        r"'monitor' parameter of ARTClassifier must be a str among "
        r"\{'average_precision', 'log_loss', 'loss', 'loss_or_metric', 'metric', "
        r"'roc_auc'\}, the name of a scikit-learn scorer "
        r"\(sklearn.metrics.get_scorer_names\(\)\) or a callable. Got 'auprc' instead."
    )
    clf = ARTClassifier(monitor="auprc", **FAST)  # __init__ stores it as given
    with pytest.raises(ValueError, match=match) as exc:
        clf.fit(X, y)
    assert isinstance(exc.value, InvalidParameterError)
    assert not hasattr(clf, "net_")  # refused before any training


def test_monitor_may_not_take_a_recorded_key(binary):
    X, y, _, _ = binary

    def loss(y_true, proba):
        return 0.0

    with pytest.raises(ValueError, match="record its score as 'valid_f1'"):
        ARTClassifier(monitor="f1", **FAST).fit(X, y)  # the metric's own key
    with pytest.raises(ValueError, match="record its score as 'valid_loss'"):
        ARTClassifier(monitor=loss, **FAST).fit(X, y)


def test_undefined_score_is_nan_with_one_warning(binary):
    # roc_auc of a validation set of one class: NaN every epoch, one warning;
    # no epoch improves, so patience stops after `patience` epochs.
    X, y, X_val, y_val = binary
    neg = y_val == "neg"
    clf = ARTClassifier(max_epochs=10, monitor="roc_auc", **{**FAST, "patience": 2})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.fit(X, y, X_val=X_val[neg], y_val=y_val[neg])
    undefined = [w for w in caught if issubclass(w.category, UndefinedMetricWarning)]
    assert len(undefined) == 1
    assert "monitor='roc_auc' is not defined on the validation fold" in str(
        undefined[0].message
    )
    assert np.isnan(clf.history_[:, "valid_roc_auc"]).all()
    assert clf.n_iter_ == 2


def test_scorer_that_fails_stops_fit_with_the_epoch(binary):
    # scikit-learn's log_loss cannot score one class without the labels.
    X, y, X_val, y_val = binary
    neg = y_val == "neg"
    clf = ARTClassifier(max_epochs=3, monitor="neg_log_loss", **FAST)
    with pytest.raises(
        ValueError, match="monitor='neg_log_loss' could not score epoch 1"
    ):
        clf.fit(X, y, X_val=X_val[neg], y_val=y_val[neg])


# -- persistence ----------------------------------------------------------------------


def test_saved_and_pickled_models_keep_the_monitor(binary, tmp_path):
    X, y, X_val, y_val = binary
    clf = ARTClassifier(max_epochs=6, monitor="roc_auc", **{**FAST, "patience": 2})
    clf.fit(X, y, X_val=X_val, y_val=y_val)
    clf.save_fitted(tmp_path / "model.pt")
    for loaded in (
        skart.load_fitted(tmp_path / "model.pt"),
        pickle.loads(pickle.dumps(clf)),
    ):
        assert loaded.get_params() == clf.get_params()
        assert loaded.history_.to_list() == clf.history_.to_list()
        np.testing.assert_array_equal(
            loaded.predict_proba(X_val), clf.predict_proba(X_val)
        )
        scoring = dict(loaded.net_.callbacks_)["monitor"]
        assert isinstance(scoring, ProbaScoring) and scoring.sample_weight is None


class _Crash(Callback):
    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == 3:
            raise RuntimeError("crash")


def test_resumed_fit_is_the_uninterrupted_one(binary, tmp_path):
    # Early stopping's counters and kept weights on the monitor are part of
    # the checkpoint: the resumed fit stops where the uninterrupted one does.
    X, y, X_val, y_val = binary
    params = {"max_epochs": 30, "monitor": "average_precision"}
    params.update({**FAST, "lr": 3e-2, "patience": 3})
    reference = ARTClassifier(**params).fit(X, y, X_val=X_val, y_val=y_val)
    assert 3 < reference.n_iter_ < 30  # it stopped early, after the crash's epoch
    directory = tmp_path / "ckpt"
    crashing = ARTClassifier(checkpoint=directory, callbacks=[_Crash()], **params)
    with pytest.raises(RuntimeError, match="crash"):
        crashing.fit(X, y, X_val=X_val, y_val=y_val)
    resumed = ARTClassifier(checkpoint=directory, **params)
    resumed.fit(X, y, X_val=X_val, y_val=y_val)
    key = "valid_average_precision"
    assert resumed.history_[:, key] == reference.history_[:, key]
    np.testing.assert_array_equal(
        resumed.predict_proba(X_val), reference.predict_proba(X_val)
    )


# -- data-parallel fits -------------------------------------------------------------


def _weighted_monitor(rank, world):
    """One weighted fit on ``world`` gloo ranks: each rank's validation shard,
    its weights and the fitted network's probabilities on it, and the history."""
    X, y = make_classification(
        n_samples=600, n_features=6, weights=[0.8], flip_y=0.1, random_state=0
    )
    w = np.random.RandomState(0).uniform(0.1, 3.0, len(y))
    clf = ARTClassifier(
        max_epochs=2,
        monitor="average_precision",
        distributed=True,
        callbacks=[("fold", _ValidationFold())],
        **FAST,
    ).fit(X, y, sample_weight=w)
    fold = dict(clf.net_.callbacks_)["fold"]
    return {
        "y": fold.y,
        "w": fold.w,
        "proba": clf.predict_proba(fold.X),
        "scores": clf.history_[:, "valid_average_precision"],
    }


def test_data_parallel_fit_scores_the_whole_fold():
    # Each rank validates on its shard; the score is that of the whole fold,
    # weighted, the same on every rank.
    from test_distributed import run_ranks

    r0, r1 = run_ranks(_weighted_monitor, world=2)
    assert r0["scores"] == r1["scores"]
    y, w, proba = (np.concatenate([r0[k], r1[k]]) for k in ("y", "w", "proba"))
    expected = average_precision_score(y == 1, proba[:, 1], sample_weight=w)
    assert r0["scores"][-1] == pytest.approx(expected, rel=1e-12)
