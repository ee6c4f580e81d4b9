"""The core of the network estimators (skart._nn), tested once.

The contract of ``BaseNetClassifier`` runs over every network estimator of
the list in conftest.py (fixture ``network_estimator``); the core's pieces
(``FitState``, ``per_row_loss``, ``lookahead_params``, ``Substitution``, the
callbacks) are tested on their own. Each method's file keeps only what is the
method's own.
"""

import copy
import inspect
import os
import pickle
import signal
import threading
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.exceptions import NotFittedError
from sklearn.metrics import f1_score
from skorch.callbacks import Callback
from torch import nn
from torch.func import functional_call

from skart import MLP, ARTClassifier
from skart._nn._callbacks import ClassScoring, LossOrMetricStopping
from skart._nn._docs import Substitution
from skart._nn._lookahead import lookahead_params
from skart._nn._loss import per_row_loss
from skart._nn._state import FitState
from skart._params import InvalidParameterError

LABELS = np.array(["low", "mid", "high"], dtype=object)


@pytest.fixture(scope="module")
def data():
    """300 rows of 6 features as a DataFrame, three string classes (60/30/10 %)."""
    X, y = make_classification(
        n_samples=300,
        n_features=6,
        n_informative=4,
        n_classes=3,
        weights=[0.6, 0.3, 0.1],
        random_state=0,
    )
    return pd.DataFrame(X, columns=[f"f{i}" for i in range(6)]), LABELS[y]


@pytest.fixture(scope="module")
def fitted(network_estimator, data):
    """Every network estimator, fitted weighted on ``data``."""
    w = np.random.RandomState(0).uniform(0.5, 2.0, len(data[1]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # AutoSMOTE's small classes
        return network_estimator().fit(*data, sample_weight=w)


def _fit(estimator, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # AutoSMOTE's small classes
        return estimator.fit(X, y, **kwargs)


# -- fitted attributes and the training data -----------------------------------


def test_fitted_attributes_are_set(fitted, data):
    X, y = data
    assert fitted.classes_.tolist() == sorted(LABELS)
    assert fitted.n_features_in_ == 6
    assert list(fitted.feature_names_in_) == list(X.columns)
    assert fitted.n_iter_ == len(fitted.history_) >= 1
    # The training fold: about 1 - validation_fraction of each class.
    n_train = (1 - fitted.validation_fraction) * len(y)
    assert fitted.class_counts_.sum() == pytest.approx(n_train, abs=3)
    assert fitted.sampling_distribution_.sum() == pytest.approx(1.0)
    np.testing.assert_array_equal(fitted.decision_offsets_, 0.0)
    proba = fitted.predict_proba(X)
    assert proba.shape == (len(y), 3) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(fitted.predict(X), fitted.classes_[proba.argmax(1)])
    assert set(fitted.predict(X)) <= set(LABELS)


def test_training_data_are_dropped_after_fit(fitted, data):
    net = fitted.net_
    assert "train_split" in net.fit_data_attributes
    for name in net.fit_data_attributes:
        assert getattr(net, name) is None, name
    callbacks = dict(net.callbacks_)
    (scoring,) = [cb for cb in callbacks.values() if isinstance(cb, ClassScoring)]
    assert scoring.sample_weight is None  # the fit was weighted: it had them
    # No row of the training data is in a pickle, in float32 or float64: the
    # rows of the largest class, which no method keeps (EGA's and
    # AutoSMOTE's points start from the smaller classes).
    X, y = data
    blob = pickle.dumps(fitted)
    majority = X.to_numpy()[y == "low"]
    for dtype in (np.float32, np.float64):
        found = [
            i for i, row in enumerate(majority) if row.astype(dtype).tobytes() in blob
        ]
        assert found == [], dtype


def test_pickle_does_not_grow_with_the_training_data():
    X, y = make_classification(n_samples=40_000, n_features=50, random_state=0)
    clf = ARTClassifier(max_epochs=1, random_state=0).fit(X, y)
    # The validation fold alone is 6000 x 50 float32 = 1.2 MB; the net with its
    # AdamW state pickles to about 0.2 MB.
    assert len(pickle.dumps(clf)) < 600_000
    assert clf.net_.train_split is None


def test_fit_state_for_loading_has_no_data():
    counts = np.array([5, 3])
    state = FitState.for_loading(counts, 4)
    assert state.class_counts is counts and state.n_features == 4
    assert not state.has_data
    for name in (
        "X_train",
        "y_train",
        "X_valid",
        "y_valid",
        "w_train",
        "w_valid",
        "valid_weights",
        "train_ds",
        "valid_ds",
        "rng",
        "sampler",
        "ddp",
        "warm",
    ):
        assert getattr(state, name) is None, name
    assert FitState(counts, 4, y_train=np.zeros(8, dtype=np.uint8)).has_data


# -- warm start, early stopping ------------------------------------------------


def test_warm_start_refuses_other_data(network_estimator, data):
    X, y = data
    X = X.to_numpy()
    clf = _fit(network_estimator(warm_start=True), X, y)
    with pytest.raises(ValueError, match="trained on 6 features, now 5"):
        clf.fit(X[:, :5], y)
    fewer = np.where(y == "high", "mid", y)
    with pytest.raises(
        ValueError, match=r"classes \['high', 'low', 'mid'\], now \['low', 'mid'\]"
    ):
        clf.fit(X, fewer)
    more = np.where(np.arange(len(y)) < 30, "new", y)
    with pytest.raises(ValueError, match=r"now \['high', 'low', 'mid', 'new'\]"):
        clf.fit(X, more)
    # Still the fitted model.
    assert clf.n_features_in_ == 6 and clf.classes_.tolist() == sorted(LABELS)
    assert clf.predict(X[:2]).shape == (2,)
    with pytest.raises(ValueError, match="network of another shape"):
        clf.set_params(module__hidden_units=(7,)).fit(X, y)


class _RunStarts(Callback):
    """The history's length at each training run's start (EGA has two phases)."""

    def initialize(self):
        self.starts = []
        return self

    def on_train_begin(self, net, **kwargs):
        self.starts.append(len(net.history))


@pytest.mark.parametrize("monitor", ["metric", "loss_or_metric"])
def test_monitor_restores_the_best_metric_epoch(network_estimator, data, monitor):
    X, y = data
    X = X.to_numpy()
    X_tr, y_tr, X_val, y_val = X[:220], y[:220], X[220:], y[220:]
    clf = network_estimator(
        max_epochs=25,
        patience=3,
        monitor=monitor,
        callbacks=[("starts", _RunStarts())],
    )
    _fit(clf, X_tr, y_tr, X_val=X_val, y_val=y_val)
    callbacks = dict(clf.net_.callbacks_)
    stopping = callbacks["early_stopping"]
    assert stopping.monitor == "valid_f1"
    assert isinstance(stopping, LossOrMetricStopping) == (monitor == "loss_or_metric")
    # The best epoch is the best metric epoch of the last training run.
    start = callbacks["starts"].starts[-1]
    f1 = np.array(clf.history_[start:, "valid_f1"])
    assert f1[stopping.best_epoch_ - start - 1] == f1.max()
    if not clf._keeps_best_epoch:  # EGA keeps its best epoch by its own score
        # The fitted network is that epoch's: it scores what that epoch did.
        got = f1_score(y_val, clf.predict(X_val), average="macro", zero_division=0)
        assert got == pytest.approx(f1.max())


def test_loss_or_metric_stopping_waits_out_the_plateau():
    from skorch.callbacks import EarlyStopping
    from skorch.history import History

    class FakeNet:
        history = History()
        module_ = nn.Linear(2, 2)
        verbose = 0

    def run(rule, losses, scores):
        net = FakeNet()
        net.history = History()
        rule.on_train_begin(net)
        for epoch, (loss, score) in enumerate(zip(losses, scores), start=1):
            net.history.new_epoch()
            net.history.record("epoch", epoch)
            net.history.record("valid_loss", loss)
            net.history.record("valid_f1", score)
            try:
                rule.on_epoch_end(net)
            except KeyboardInterrupt:
                return epoch, rule.best_epoch_
        return None, rule.best_epoch_

    # A majority-class plateau: the macro metric is flat for 6 epochs while
    # the loss falls, then the metric rises, peaks at epoch 9 and both stall.
    losses = [1.0, 0.8, 0.7, 0.6, 0.55, 0.5, 0.45, 0.4, 0.38] + [0.38] * 6
    scores = [0.4] * 6 + [0.5, 0.6, 0.7] + [0.65] * 6
    kwargs = {"monitor": "valid_f1", "lower_is_better": False, "patience": 3}
    stop, best = run(EarlyStopping(load_best=True, **kwargs), losses, scores)
    assert (stop, best) == (4, 1)  # the metric alone stops on the plateau
    rule = LossOrMetricStopping(load_best=True, **kwargs)
    stop, best = run(rule, losses, scores)
    assert (stop, best) == (12, 9)
    assert rule.best_model_weights_ is not None


# -- parameters and input --------------------------------------------------------


@pytest.mark.parametrize(
    "params, match",
    [
        ({"validation_fraction": 1.0}, "'validation_fraction' parameter"),
        ({"metric": "auc"}, "'metric' parameter"),
        ({"decision": "threshold"}, "'decision' parameter"),
        ({"monitor": "auprc"}, "'monitor' parameter"),
        ({"lr": 0.0}, "'lr' parameter"),
        ({"batch_size": 0}, "'batch_size' parameter"),
        ({"patience": 0}, "'patience' parameter"),
        ({"lr_schedule": "step"}, "'lr_schedule' parameter"),
        ({"class_weight": "auto"}, "'class_weight' parameter"),
    ],
)
def test_bad_parameters(network_estimator, data, params, match):
    name = network_estimator.cls.__name__
    with pytest.raises(InvalidParameterError, match=f"{match} of {name} must be"):
        network_estimator(**params).fit(*data)


def test_unknown_parameter_name(network_estimator, data):
    with pytest.raises(ValueError, match=r"unknown parameters \['hidden_units'\]"):
        network_estimator(hidden_units=(3,)).fit(*data)


def test_routed_parameters_reach_the_net(network_estimator, data):
    est = network_estimator(module__hidden_units=(7,), optimizer__weight_decay=0.0)
    assert est.get_params()["module__hidden_units"] == (7,)
    est.set_params(module__hidden_units=(5,))
    net = _fit(est, *data).net_
    assert net.module_.layers[1].out_features == 5
    assert net.optimizer_.param_groups[0]["weight_decay"] == 0.0


@pytest.mark.parametrize(
    "X, y, match",
    [
        (np.zeros((10, 2)), np.ones(10), "at least 2 classes; got 1 class"),
        (np.zeros((10, 2)), np.linspace(0, 1, 10), "Unknown label type: continuous"),
        (np.zeros((10, 2)), np.zeros((10, 2)), "y should be a 1d array"),
        (np.zeros((0, 2)), np.zeros(0), "0 sample"),
        ([[0.0, np.nan]] * 5 + [[1.0, 0.0]] * 5, [0] * 5 + [1] * 5, "contains NaN"),
        ([[0.0, np.inf]] * 5 + [[1.0, 0.0]] * 5, [0] * 5 + [1] * 5, "infinity"),
        (
            np.random.default_rng(0).normal(size=(6, 2)),
            [0, 0, 0, 1, 1, 1],
            "leaves the validation fold empty",
        ),
    ],
)
def test_bad_input(network_estimator, X, y, match):
    est = network_estimator()
    if match == "leaves the validation fold empty":
        est.set_params(validation_fraction=0.1)
    with pytest.raises(ValueError, match=match):
        est.fit(X, y)


def test_non_numeric_columns_are_named(network_estimator, fitted, data):
    X, y = data
    df = X.copy()
    df["shop"] = pd.Categorical(np.where(y == "low", "web", "store"))
    df["country"] = np.where(y == "mid", "NL", "FR")
    match = (
        r"non-numeric columns \{'shop': 'category', 'country': '.*'\}.*OneHotEncoder"
    )
    with pytest.raises(ValueError, match=match):
        network_estimator().fit(df, y)
    with pytest.raises(ValueError, match=r"non-numeric columns \{'shop'"):
        fitted.predict(df[[*df.columns[:5], "shop"]])


def test_explicit_validation_set_errors(network_estimator, data):
    X, y = data
    X = X.to_numpy()
    with pytest.raises(ValueError, match="both X_val and y_val"):
        network_estimator().fit(X, y, X_val=X)
    with pytest.raises(ValueError, match=r"y_val has labels \['top'\]"):
        network_estimator().fit(X, y, X_val=X[:2], y_val=["low", "top"])
    with pytest.raises(ValueError, match="features"):
        network_estimator().fit(X, y, X_val=X[:2, :3], y_val=["low", "mid"])


def test_predict_needs_a_fit_on_the_same_features(network_estimator, fitted):
    name = network_estimator.cls.__name__
    with pytest.raises(NotFittedError, match="not fitted yet"):
        network_estimator().predict(np.zeros((2, 6)))
    with pytest.raises(ValueError, match=f"has 3 features, but {name} is expecting 6"):
        fitted.predict(np.zeros((2, 3)))


def test_sparse_input_follows_the_tags(network_estimator, fitted, data):
    import scipy.sparse as sp

    X, y = data
    X = sp.csr_matrix(np.where(np.abs(X) > 1, X, 0.0))
    if fitted.__sklearn_tags__().input_tags.sparse:
        assert network_estimator().fit(X, y).predict_proba(X).shape == (len(y), 3)
    else:
        with pytest.raises(TypeError, match="dense data is required"):
            network_estimator().fit(X, y)
        with pytest.raises(TypeError, match="dense data is required"):
            fitted.predict(X)


def test_nan_loss_stops_training(network_estimator, data):
    # The guard runs before any callback scores the epoch (EGA's monitor
    # computed average precision on NaN probabilities first, once).
    X, y = data
    est = network_estimator(lr=1e6, optimizer=torch.optim.SGD, max_epochs=3)
    with pytest.raises(FloatingPointError, match="training loss became nan at epoch 1"):
        _fit(est, X * 1e6, y)


def test_fit_does_not_touch_global_rng(network_estimator, data):
    torch.manual_seed(123)
    state = torch.get_rng_state()
    np_state = np.random.get_state()[1].copy()  # noqa: NPY002
    _fit(network_estimator(), *data)
    assert torch.equal(torch.get_rng_state(), state)
    np.testing.assert_array_equal(np.random.get_state()[1], np_state)  # noqa: NPY002


# -- batch losses read once per epoch -------------------------------------------


class _ReadsBatchLoss(Callback):
    """A callback that reads each batch's loss, as a progress bar does."""

    def on_batch_end(self, net, **kwargs):
        self.last_ = dict(net.history[-1, "batches", -1])


class _SaysItDoesNot(Callback):
    """A per-batch callback that declares it reads no batch loss."""

    reads_batch_loss = False

    def on_batch_end(self, net, **kwargs):
        self.calls_ = getattr(self, "calls_", 0) + 1


def _history_without_durations(clf):
    rows = clf.history_.to_list()
    for row in rows:
        row.pop("dur")
    return rows


def test_losses_read_once_per_epoch_give_the_same_history(network_estimator, data):
    X, y = data
    lean = _fit(network_estimator(), X, y)
    eager = _fit(network_estimator(callbacks=[("reader", _ReadsBatchLoss())]), X, y)
    declared = _fit(network_estimator(callbacks=[("quiet", _SaysItDoesNot())]), X, y)
    assert lean.net_._deferred_losses and declared.net_._deferred_losses
    assert not eager.net_._deferred_losses
    assert dict(declared.net_.callbacks_)["quiet"].calls_ > 0
    reader = dict(eager.net_.callbacks_)["reader"]
    assert "valid_loss" in reader.last_  # recorded before the hook, per batch
    assert _history_without_durations(lean) == _history_without_durations(eager)
    np.testing.assert_array_equal(lean.predict_proba(X), eager.predict_proba(X))


# -- the core's pieces ---------------------------------------------------------------


def test_per_row_loss_restores_the_reduction():
    criterion = nn.CrossEntropyLoss()
    logits, target = torch.randn(5, 3), torch.tensor([0, 1, 2, 1, 0])
    losses = per_row_loss(criterion, logits, target)
    expected = nn.functional.cross_entropy(logits, target, reduction="none")
    torch.testing.assert_close(losses, expected, rtol=0, atol=0)
    assert criterion.reduction == "mean"
    with pytest.raises(ValueError):  # a failing call puts it back too
        per_row_loss(criterion, logits, torch.tensor([0, 1]))
    assert criterion.reduction == "mean"


def test_per_row_loss_needs_a_reduction():
    def bare(logits, target):
        return nn.functional.cross_entropy(logits, target)

    with pytest.raises(
        ValueError,
        match="My method needs the loss of each row.*no `reduction` attribute",
    ):
        per_row_loss(bare, torch.randn(2, 2), torch.tensor([0, 1]), purpose="My method")


def test_lookahead_params_are_an_sgd_step():
    torch.manual_seed(0)
    net = MLP(n_features=3, n_classes=2, hidden_units=(8, 4), dropout=0.0)
    first = next(m for m in net.modules() if isinstance(m, nn.Linear))
    first.bias.requires_grad_(False)  # frozen: not stepped, not listed
    X, y = torch.rand(10, 3), torch.tensor([0, 1] * 5)
    X_val = torch.rand(7, 3)
    eta1 = 0.1
    params = [p for p in net.parameters() if p.requires_grad]
    grads = torch.autograd.grad(nn.functional.cross_entropy(net(X), y), params)
    theta = lookahead_params(net, grads, eta1)

    twin = copy.deepcopy(net)
    opt = torch.optim.SGD(
        [p for p in twin.parameters() if p.requires_grad], lr=eta1, foreach=False
    )
    nn.functional.cross_entropy(twin(X), y).backward()
    opt.step()
    trainable = [n for n, p in twin.named_parameters() if p.requires_grad]
    assert list(theta) == trainable
    for name in trainable:
        assert torch.equal(theta[name], dict(twin.named_parameters())[name]), name
    with torch.no_grad():
        assert torch.equal(functional_call(net, theta, (X_val,)), twin(X_val))


def test_lookahead_params_carry_the_graph():
    torch.manual_seed(0)
    net = nn.Linear(3, 2)
    X, y = torch.rand(4, 3, requires_grad=True), torch.tensor([0, 1, 0, 1])
    loss = nn.functional.cross_entropy(net(X), y)
    grads = torch.autograd.grad(loss, list(net.parameters()), create_graph=True)
    theta = lookahead_params(net, grads, 0.5)
    outer = functional_call(net, theta, (torch.rand(2, 3),)).sum()
    (grad_X,) = torch.autograd.grad(outer, X)
    assert grad_X.abs().sum() > 0  # the step's parameters depend on X


class _Documented:
    """A toy estimator.

    Parameters
    ----------
    alpha : float, default=1.0
        Its own parameter.

    Attributes
    ----------
    coef_ : ndarray
        Something.
    """

    def __init__(self, lr=0.5, *, alpha=1.0, device="cpu", **kwargs):
        pass


def test_substitution_fills_in_signature_order():
    table = {
        "device": ("str", "Where it runs."),
        "lr": ("float", "Learning rate."),
        "**kwargs": (None, "Routed parameters."),
    }
    doc = Substitution(table).fill(
        _Documented.__doc__, inspect.signature(_Documented.__init__)
    )
    section = doc[doc.index("Parameters") : doc.index("Attributes")]
    names = [
        line.strip().split(" : ")[0]
        for line in section.splitlines()[2:]
        if line.startswith("    ") and not line.startswith("        ") and line.strip()
    ]
    assert names == ["lr", "alpha", "device", "**kwargs"]
    assert "lr : float, default=0.5\n        Learning rate." in doc
    assert 'device : str, default="cpu"' in doc
    assert "alpha : float, default=1.0\n        Its own parameter." in doc
    assert "    **kwargs\n        Routed parameters." in doc
    assert "coef_ : ndarray" in doc  # the rest of the docstring is kept


def test_substitution_refuses_an_undocumented_parameter():
    with pytest.raises(ValueError, match="parameter 'device' is documented nowhere"):
        Substitution({"lr": ("float", "Learning rate.")})(_Documented)
    with pytest.raises(ValueError, match="no Parameters section"):
        Substitution({}).fill("Nothing here.", inspect.signature(_Documented.__init__))


# -- Ctrl-C --------------------------------------------------------------------


class _CtrlC(Callback):
    """Send this process a SIGINT (Ctrl-C) at the end of epoch ``at``."""

    def __init__(self, at=2):
        self.at = at

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.at:
            os.kill(os.getpid(), signal.SIGINT)


@pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(),
    reason="signals reach the main thread only",
)
def test_ctrl_c_stops_training_keeps_the_fit_and_warns(network_estimator, data):
    # As scikit-learn's MLPClassifier: training stops, a warning, a fitted model.
    X, y = data
    est = network_estimator(callbacks=[_CtrlC(at=2)], patience=None)
    with pytest.warns(UserWarning, match=r"fit was interrupted \(KeyboardInterrupt\)"):
        est.fit(X, y)
    history = est.history_
    assert len(history) == 2  # no later epoch, no second stage or phase
    assert history[-1, "interrupted"] is True
    assert est.n_iter_ == 2
    proba = est.predict_proba(X)
    assert np.isfinite(proba).all()
    # The handler is the process's own again.
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_early_stopping_is_not_an_interrupt(network_estimator, data):
    # Early stopping also raises KeyboardInterrupt inside skorch: no warning.
    X, y = data
    est = network_estimator(patience=1, max_epochs=30)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.filterwarnings("ignore", message=".*(k_max|neighbour|no synthetic)")
        est.fit(X, y)
    assert "interrupted" not in est.history_[-1]
