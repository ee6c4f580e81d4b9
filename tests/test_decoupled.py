"""DecoupledClassifier's own behaviour: its two stages and its parameters.

The core's contract (common checks, persistence, weights, decision) is tested
over the list of network estimators; this file keeps the method's known
answers: stage 2 leaves the representation bitwise unchanged, draws classes
uniformly, and tau = 0 is the stage-1 network.
"""

import copy
import io

import numpy as np
import pytest
import torch
from scipy.stats import chisquare
from skorch.callbacks import Callback
from torch import nn

import skart
from skart import ARTClassifier
from skart._decoupled import DecoupledClassifier

FAST = {"max_epochs": 6, "crt_epochs": 4, "lr": 1e-2, "random_state": 0}


def _data(weights=(0.8, 0.15), n=600, seed=0):
    from sklearn.datasets import make_classification

    return make_classification(
        n_samples=n,
        n_features=6,
        n_informative=4,
        n_classes=len(weights) + 1,
        weights=list(weights),
        random_state=seed,
    )


class Spy(Callback):
    """Snapshots of the module at each train begin/end, and the training labels drawn."""

    def initialize(self):
        self.begin_, self.end_, self.labels_ = [], [], []
        return self

    def on_train_begin(self, net, **kwargs):
        self.begin_.append(copy.deepcopy(net.module_.state_dict()))

    def on_train_end(self, net, **kwargs):
        self.end_.append(copy.deepcopy(net.module_.state_dict()))

    def on_batch_begin(self, net, batch, training, **kwargs):
        if training:  # (epoch, labels of the batch)
            self.labels_.append((len(net.history), batch[1].cpu().numpy()))


@pytest.fixture(scope="module")
def crt_fit():
    X, y = _data()
    clf = DecoupledClassifier(patience=2, callbacks=[("spy", Spy())], **FAST)
    return clf.fit(X, y), X, y


@pytest.fixture(scope="module")
def imbalanced_crt():
    # 90/9/1: 900, 90 and 10 rows.
    X, y = _data(weights=(0.9, 0.09), n=1000, seed=1)
    clf = DecoupledClassifier(
        patience=None, callbacks=[("spy", Spy())], **{**FAST, "crt_epochs": 6}
    )
    return clf.fit(X, y), y


# -- known answers ---------------------------------------------------------


def test_stage_two_leaves_the_representation_bitwise_unchanged(crt_fit):
    clf = crt_fit[0]
    spy = dict(clf.net_.callbacks_)["spy"]
    assert len(spy.end_) == 2  # stage 1, stage 2
    stage1, final = spy.end_[0], clf.net_.module_.state_dict()
    head = clf.classifier_layer_ + "."
    assert clf.classifier_layer_ == "layers.7"  # the MLP's output layer
    frozen = [k for k in final if not k.startswith(head)]
    assert frozen
    for k in frozen:
        assert torch.equal(stage1[k], final[k]), k
    # The classifier itself was re-initialised and retrained.
    assert not torch.equal(stage1[head + "weight"], final[head + "weight"])
    # ... from a fresh draw, not from stage 1's weights.
    assert not torch.equal(spy.begin_[1][head + "weight"], stage1[head + "weight"])
    # Fitted, the module trains normally again.
    assert all(p.requires_grad for p in clf.net_.module_.parameters())


def test_stage_two_draws_classes_uniformly(imbalanced_crt):
    clf, y = imbalanced_crt
    stages = np.asarray(clf.history_[:, "stage"])
    assert stages.tolist() == [1] * 6 + [2] * 6
    spy = dict(clf.net_.callbacks_)["spy"]
    drawn = {
        s: np.concatenate([b for epoch, b in spy.labels_ if stages[epoch - 1] == s])
        for s in (1, 2)
    }
    counts = np.bincount(drawn[2], minlength=3)
    assert counts.min() > 0
    assert chisquare(counts).pvalue > 0.01
    # Stage 1 draws by the prior: far from uniform.
    assert chisquare(np.bincount(drawn[1], minlength=3)).pvalue < 1e-10


def test_tau_zero_is_the_stage_one_network():
    X, y = _data()
    params = {"max_epochs": 6, "lr": 1e-2, "random_state": 0}
    plain = ARTClassifier(art=False, **params).fit(X, y)
    tau0 = DecoupledClassifier(method="tau_norm", tau=0.0, **params).fit(X, y)
    assert np.array_equal(tau0.predict_proba(X), plain.predict_proba(X))
    # tau = 0 chosen from a grid is the same network.
    grid0 = DecoupledClassifier(method="tau_norm", tau_grid=[0], **params).fit(X, y)
    assert np.array_equal(grid0.predict_proba(X), plain.predict_proba(X))


def test_tau_norm_rescales_the_weight_rows_only():
    X, y = _data()
    params = {"max_epochs": 6, "lr": 1e-2, "random_state": 0, "method": "tau_norm"}
    tau0 = DecoupledClassifier(tau=0.0, **params).fit(X, y)
    tau1 = DecoupledClassifier(tau=1.0, **params).fit(X, y)
    w0, w1 = tau0.net_.module_.layers[7].weight, tau1.net_.module_.layers[7].weight
    norms = torch.linalg.vector_norm(w0.double(), dim=1)
    np.testing.assert_allclose(tau1.weight_norms_, norms.detach().numpy())
    np.testing.assert_allclose(
        torch.linalg.vector_norm(w1, dim=1).detach().numpy(), 1.0, rtol=1e-6
    )
    assert torch.equal(
        tau0.net_.module_.layers[7].bias, tau1.net_.module_.layers[7].bias
    )
    assert tau1.tau_ == 1.0 and tau1.tau_grid_.tolist() == [1.0]


def test_tau_is_chosen_on_the_grid():
    X, y = _data(weights=(0.85, 0.12))
    clf = DecoupledClassifier(method="tau_norm", max_epochs=6, lr=1e-2, random_state=0)
    clf.fit(X, y)
    assert clf.tau_grid_.tolist() == [round(0.1 * i, 1) for i in range(21)]
    assert clf.tau_ in clf.tau_grid_
    assert clf.tau_scores_.shape == clf.tau_grid_.shape
    best = clf.tau_scores_.max()
    # The first maximum: ties go to the smaller tau.
    assert clf.tau_ == clf.tau_grid_[np.flatnonzero(clf.tau_scores_ == best)[0]]
    # A grid of one's own is sorted.
    clf.set_params(tau_grid=[1.5, 0.5, 1.0]).fit(X, y)
    assert clf.tau_grid_.tolist() == [0.5, 1.0, 1.5] and clf.tau_ in clf.tau_grid_


# -- any module --------------------------------------------------------------


class HeadFirst(nn.Module):
    """The classifier is declared before the body: not the last nn.Linear."""

    def __init__(self, n_features, n_classes):
        super().__init__()
        self.head = nn.Linear(16, n_classes)
        self.body = nn.Sequential(nn.Linear(n_features, 16), nn.ReLU())

    def forward(self, X):
        return self.head(self.body(X))


class NoLinear(nn.Module):
    def __init__(self, n_features, n_classes):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(n_features, n_classes))

    def forward(self, X):
        return X @ self.w


@pytest.mark.parametrize("method", ["crt", "tau_norm"])
def test_a_named_classifier_of_any_module(method):
    X, y = _data()
    clf = DecoupledClassifier(
        HeadFirst,
        method=method,
        classifier_layer="head",
        callbacks=[("spy", Spy())],
        **FAST,
    ).fit(X, y)
    assert clf.classifier_layer_ == "head"
    stage1 = dict(clf.net_.callbacks_)["spy"].end_[0]
    final = clf.net_.module_.state_dict()
    for k in ("body.0.weight", "body.0.bias"):
        assert torch.equal(stage1[k], final[k])
    if method == "crt":
        assert not torch.equal(stage1["head.weight"], final["head.weight"])
    else:
        w = stage1["head.weight"].double()
        expected = w / torch.linalg.vector_norm(w, dim=1, keepdim=True) ** clf.tau_
        torch.testing.assert_close(final["head.weight"], expected.float())
        assert torch.equal(stage1["head.bias"], final["head.bias"])
    assert clf.predict(X).shape == y.shape


def test_bad_classifier_layers_are_refused():
    X, y = _data()
    with pytest.raises(ValueError, match="'body.0' has 16 outputs but there are 3"):
        DecoupledClassifier(HeadFirst, **FAST).fit(X, y)
    with pytest.raises(ValueError, match="NoLinear has no torch.nn.Linear layer"):
        DecoupledClassifier(NoLinear, **FAST).fit(X, y)
    with pytest.raises(ValueError, match="'nope' is not a submodule of MLP"):
        DecoupledClassifier(classifier_layer="nope", **FAST).fit(X, y)
    with pytest.raises(ValueError, match="'layers.2' is a ReLU, not a torch.nn.Linear"):
        DecoupledClassifier(classifier_layer="layers.2", **FAST).fit(X, y)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"method": "lws"}, "'method' parameter"),
        ({"crt_epochs": 0}, "'crt_epochs' parameter"),
        ({"tau": -1.0}, "'tau' parameter"),
        ({"crt_lr": 0.0}, "'crt_lr' parameter"),
        ({"tau_grid": []}, "tau_grid must be a non-empty 1-d sequence"),
        ({"tau_grid": [0.5, -1]}, "tau_grid must be a non-empty 1-d sequence"),
        ({"distributed": True}, r"unknown parameters \['distributed'\]"),
    ],
)
def test_bad_parameters_are_refused(params, match):
    X, y = _data(n=100)
    with pytest.raises(ValueError, match=match):
        DecoupledClassifier(**params).fit(X, y)


# -- the core's features ---------------------------------------------------------


def test_sample_weight_and_string_labels():
    X, y = _data(weights=(0.6, 0.3), n=600)
    labels = np.array(["cat", "dog", "emu"])[y]
    w = np.ones(len(y))
    w[y == 2] = 0.0  # the emus do not count: stage 2 never draws them
    clf = DecoupledClassifier(callbacks=[("spy", Spy())], patience=None, **FAST)
    clf.fit(X, labels, sample_weight=w)
    stages = np.asarray(clf.history_[:, "stage"])
    spy = dict(clf.net_.callbacks_)["spy"]
    stage2 = np.concatenate([b for e, b in spy.labels_ if stages[e - 1] == 2])
    counts = np.bincount(stage2, minlength=3)
    assert counts[2] == 0 and chisquare(counts[:2]).pvalue > 0.01
    assert set(clf.predict(X)) <= set(labels)
    assert clf.classes_.tolist() == ["cat", "dog", "emu"]


@pytest.mark.parametrize("method", ["crt", "tau_norm"])
def test_save_and_load_round_trip_bitwise(method):
    X, y = _data()
    params = {**FAST, "method": method, "decision": "tuned"}
    clf = DecoupledClassifier(**params).fit(X, y)
    buffer = io.BytesIO()
    clf.save_fitted(buffer)
    buffer.seek(0)
    loaded = skart.load_fitted(buffer)
    assert loaded.get_params() == clf.get_params()
    assert np.array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    assert np.array_equal(loaded.predict(X), clf.predict(X))
    assert loaded.history_[:, "stage"] == clf.history_[:, "stage"]
    assert loaded.tau_ == clf.tau_


def test_warm_start_runs_both_stages_again(crt_fit):
    clf, X, y = crt_fit
    clf = copy.deepcopy(clf)
    before = clf.history_[:, "stage"]
    clf.set_params(warm_start=True).fit(X, y)
    stages = clf.history_[:, "stage"]
    n = len(before)
    assert len(stages) > n and stages[:n] == before
    assert stages[n] == 1 and stages[-1] == 2 and clf.n_iter_ == len(stages)


def test_tau_norm_warm_start_undoes_the_normalisation():
    X, y = _data()
    clf = DecoupledClassifier(
        method="tau_norm", tau=1.0, max_epochs=3, lr=1e-2, random_state=0
    ).fit(X, y)
    norms = clf.weight_norms_.copy()
    # One more epoch at a learning rate of ~0 keeps stage 1's weights: the norms
    # tau-norm divides by again are the first fit's, not those of unit rows.
    clf.set_params(warm_start=True, max_epochs=1, lr=1e-12).fit(X, y)
    np.testing.assert_allclose(clf.weight_norms_, norms, rtol=1e-4)
    assert not np.allclose(norms, 1.0, rtol=0.05)
