"""EGAClassifier: the meta step, the eta2 = 0 identity, data hygiene, errors.

The core's contract (warm start, monitor, input checks, persistence) runs over
every network estimator in test_nn.py and the files that use conftest.py's list.
"""

import copy
import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.preprocessing import MinMaxScaler
from skorch.callbacks import Callback
from torch import nn
from torch.func import functional_call

from skart import MLP, ArrayDataset, BatchIterator, EGAClassifier
from skart._ega._meta import meta_gradients
from skart._nn._lookahead import lookahead_params
from skart._validation import draw_seed

CE = nn.functional.cross_entropy


def _batches(seed=0, dtype=torch.float64, n_features=3):
    g = torch.Generator().manual_seed(seed)
    Z = torch.rand(6, n_features, generator=g, dtype=dtype)
    X = torch.rand(8, n_features, generator=g, dtype=dtype)
    X_val = torch.rand(7, n_features, generator=g, dtype=dtype)
    y_z = torch.ones(6, dtype=torch.long)
    y = torch.tensor([0, 0, 1, 0, 0, 0, 1, 0])
    y_val = torch.tensor([0, 1, 0, 0, 1, 0, 1])
    return Z, y_z, X, y, X_val, y_val


def _tanh_net(dtype=torch.float64):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2)).to(dtype)


@pytest.fixture(scope="module")
def imbalanced():
    X, y = make_classification(
        n_samples=240, n_features=5, weights=[0.85], random_state=0
    )
    X = MinMaxScaler().fit_transform(X)
    return X[:180], y[:180], X[180:], y[180:]


# -- the meta step ------------------------------------------------------------


def test_hypergradient_matches_central_finite_differences():
    net = _tanh_net()
    Z, y_z, X, y, X_val, y_val = _batches()
    eta1 = 0.5
    *_, grad_Z, _ = meta_gradients(net, CE, Z, y_z, X, y, X_val, y_val, eta1)

    def outer_loss(Z):
        params = [p for p in net.parameters()]
        loss = CE(net(torch.cat([Z, X])), torch.cat([y_z, y]))
        grads = torch.autograd.grad(loss, params)
        theta = lookahead_params(net, grads, eta1)
        return CE(functional_call(net, theta, (X_val,)), y_val).item()

    h = 1e-6
    fd = torch.zeros_like(Z)
    for i in range(Z.shape[0]):
        for j in range(Z.shape[1]):
            up, down = Z.clone(), Z.clone()
            up[i, j] += h
            down[i, j] -= h
            fd[i, j] = (outer_loss(up) - outer_loss(down)) / (2 * h)
    assert grad_Z.abs().max() > 1e-4  # a real signal, not a zero gradient
    torch.testing.assert_close(grad_Z, fd, rtol=1e-5, atol=1e-9)


def test_meta_step_looks_ahead_by_the_sgd_step_of_the_inner_loss():
    # lookahead_params is an SGD step (tests/test_nn.py); the meta step takes
    # it with the gradients of the loss on [Z; X], and scores the validation
    # rows with the stepped network.
    torch.manual_seed(0)
    net = MLP(n_features=3, n_classes=2, hidden_units=(8, 4), dropout=0.0)
    Z, y_z, X, y, X_val, y_val = _batches(dtype=torch.float32)
    eta1 = 0.1
    _, _, grads, _, loss_val = meta_gradients(net, CE, Z, y_z, X, y, X_val, y_val, eta1)

    twin = copy.deepcopy(net)
    opt = torch.optim.SGD(twin.parameters(), lr=eta1, foreach=False)
    CE(twin(torch.cat([Z, X])), torch.cat([y_z, y])).backward()
    for g, (name, p) in zip(grads, twin.named_parameters(), strict=True):
        assert torch.equal(g, p.grad), name  # bitwise the inner gradients
    opt.step()
    with torch.no_grad():
        assert torch.equal(loss_val, CE(twin(X_val), y_val))


def test_parameter_gradient_ignores_the_validation_batch():
    net = _tanh_net()
    Z, y_z, X, y, X_val, y_val = _batches()
    _, _, g1, dZ1, _ = meta_gradients(net, CE, Z, y_z, X, y, X_val, y_val, 0.1)
    _, _, g2, dZ2, _ = meta_gradients(net, CE, Z, y_z, X, y, X_val + 3.0, y_val, 0.1)
    for a, b in zip(g1, g2):
        assert torch.equal(a, b)
    assert not torch.allclose(dZ1, dZ2)  # the points do see the validation rows


def test_dropout_and_batchnorm_in_the_lookahead():
    # Inner pass in training mode (one dropout mask, running statistics
    # updated once, from [Z; X] only); outer pass in evaluation mode.
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Linear(3, 16),
        nn.BatchNorm1d(16),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(16, 2),
    )
    Z, y_z, X, y, X_val, y_val = _batches(dtype=torch.float32)
    twin = copy.deepcopy(net)
    torch.manual_seed(1)
    loss, _, _, grad_Z, loss_val = meta_gradients(
        net, CE, Z, y_z, X, y, X_val, y_val, 0.1
    )
    rng_after = torch.get_rng_state()
    assert net.training  # the mode is restored
    assert int(net[1].num_batches_tracked) == 1

    torch.manual_seed(1)  # the same dropout mask
    ref = CE(twin(torch.cat([Z, X])), torch.cat([y_z, y]))
    rng_ref = torch.get_rng_state()
    ref.backward()
    torch.optim.SGD(twin.parameters(), lr=0.1).step()
    torch.testing.assert_close(loss, ref.detach())
    torch.testing.assert_close(net[1].running_mean, twin[1].running_mean)
    twin.eval()
    with torch.no_grad():
        torch.testing.assert_close(loss_val, CE(twin(X_val), y_val))
    assert torch.isfinite(grad_Z).all()
    # The outer pass draws no random numbers: one dropout mask per step.
    assert torch.equal(rng_after, rng_ref)


# -- the estimator ------------------------------------------------------------


class Snapshots(Callback):
    """Keep the module's weights at the end of every epoch."""

    def initialize(self):
        self.states = []
        return self

    def on_epoch_end(self, net, **kwargs):
        self.states.append(copy.deepcopy(net.module_.state_dict()))


def test_eta2_zero_is_training_on_one_copy_of_the_minority(imbalanced):
    X, y, X_val, y_val = imbalanced
    params = dict(
        eta2=0.0,
        eta1=0.05,
        pretrain_epochs=3,
        batch_size=32,
        random_state=0,
    )
    clf = EGAClassifier(max_epochs=4, callbacks=[("snap", Snapshots())], **params)
    clf.fit(X, y, X_val=X_val, y_val=y_val)
    # The points never moved.
    np.testing.assert_array_equal(clf.synthetic_X_, clf.synthetic_init_X_)
    minority = np.argmin(np.bincount(y))
    np.testing.assert_array_equal(
        clf.synthetic_init_X_, X[y == minority].astype(np.float32)
    )
    assert clf.history_[-1, "synthetic_distance"] == 0.0

    # The reference: the phase-1 network, then plain SGD on the data plus one
    # copy of the minority, with the same real batches (the fit's iterator)
    # and the same synthetic rows in each batch.
    net = copy.deepcopy(
        EGAClassifier(max_epochs=0, **params)
        .fit(X, y, X_val=X_val, y_val=y_val)
        .net_.module_
    )
    seed = draw_seed(np.random.RandomState(0))  # the fit's seed (no split drawn)
    Xt = torch.from_numpy(X.astype(np.float32))
    yt = torch.from_numpy(y.astype(np.int64))
    Z, y_z = Xt[yt == minority], yt[yt == minority]
    n_batches = -(-len(y) // 32)
    b_z = -(-len(Z) // n_batches)
    gen = torch.Generator().manual_seed(seed)
    stream = torch.empty(0, dtype=torch.int64)
    opt = torch.optim.SGD(net.parameters(), lr=0.05, foreach=False)
    real = BatchIterator(ArrayDataset(Xt, yt), 32, shuffle=True, random_state=seed)
    for _ in range(4):
        for Xb, yb in real:
            while len(stream) < b_z:
                stream = torch.cat([stream, torch.randperm(len(Z), generator=gen)])
            zi, stream = stream[:b_z], stream[b_z:]
            opt.zero_grad()
            CE(net(torch.cat([Z[zi], Xb])), torch.cat([y_z[zi], yb])).backward()
            opt.step()
    final = dict(clf.net_.callbacks_)["snap"].states[-1]
    for name, value in net.state_dict().items():
        assert torch.equal(final[name], value), name


class RowRecorder(MLP):
    """An MLP that records every row it sees in a training-mode forward."""

    seen = []

    def forward(self, X):
        if self.training:
            RowRecorder.seen.append(X.detach().clone())
        return super().forward(X)


def test_validation_rows_never_enter_the_update(imbalanced):
    X, y, X_val, y_val = imbalanced
    X_val = X_val + 10.0  # far from every training row and every point
    RowRecorder.seen = []
    clf = EGAClassifier(
        RowRecorder,
        pretrain_epochs=2,
        max_epochs=2,
        eta2=1.0,
        batch_size=32,
        random_state=0,
    ).fit(X, y, X_val=X_val, y_val=y_val)
    assert np.abs(clf.synthetic_X_ - clf.synthetic_init_X_).max() > 0
    seen = torch.cat(RowRecorder.seen).numpy()
    assert len(seen) > len(X)  # both phases were recorded
    # Every row behind a parameter update is a training row or a point.
    assert seen.max() < 5.0
    assert np.isin(clf.predict(X_val[:5]), clf.classes_).all()


def test_points_move_and_history(imbalanced):
    X, y, X_val, y_val = imbalanced
    X_orig = X.copy()
    clf = EGAClassifier(
        pretrain_epochs=3, max_epochs=3, eta2=10.0, batch_size=32, random_state=0
    ).fit(X, y, X_val=X_val, y_val=y_val)
    np.testing.assert_array_equal(X, X_orig)  # the copies are not views
    history = clf.history_
    assert history[:, "phase"] == [1, 1, 1, 2, 2, 2]
    distances = [row["synthetic_distance"] for row in history[3:]]
    assert distances[0] > 0 and np.all(np.diff(distances) > 0)
    moved = np.linalg.norm(clf.synthetic_X_ - clf.synthetic_init_X_, axis=1).mean()
    assert moved == pytest.approx(distances[clf.best_epoch_ - 4], rel=1e-5)
    phase2 = history[3:, "valid_ap"]
    assert clf.best_epoch_ == 4 + int(np.argmax(phase2))
    assert set(clf.synthetic_y_) == {np.argmin(np.bincount(y))}
    # A pickle holds no copy of the best weights or of the points' state.
    assert dict(clf.net_.callbacks_)["ega"].best_model_weights_ is None
    clone = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(clone.predict_proba(X), clf.predict_proba(X))


def test_confidence_selects_the_rows_the_phase1_model_doubts(imbalanced):
    X, y, X_val, y_val = imbalanced
    clf = EGAClassifier(
        pretrain_epochs=30,
        max_epochs=0,
        confidence=0.5,
        lr=1e-2,
        batch_size=32,
        random_state=0,
    ).fit(X, y, X_val=X_val, y_val=y_val)
    minority = np.argmin(np.bincount(y))
    rows = X[y == minority]
    doubt = clf.predict_proba(rows)[:, minority] <= 0.5  # max_epochs=0: phase 1
    assert 0 < doubt.sum() < len(rows)
    np.testing.assert_array_equal(clf.synthetic_init_X_, rows[doubt].astype(np.float32))


def test_multiclass_seeds_every_class_smaller_than_the_largest():
    X, y = make_classification(
        n_samples=300,
        n_features=6,
        n_informative=4,
        n_classes=3,
        weights=[0.6, 0.3, 0.1],
        random_state=0,
    )
    labels = np.array(["a", "b", "c"])[y]
    clf = EGAClassifier(
        pretrain_epochs=2, max_epochs=2, synthetic_ratio=2.0, random_state=0
    ).fit(X, labels)
    counts = dict(zip(clf.classes_, clf.class_counts_))
    got = dict(zip(*np.unique(clf.synthetic_y_, return_counts=True)))
    assert got == {"b": 2 * counts["b"], "c": 2 * counts["c"]}
    assert np.isfinite(clf.history_[-1, "valid_ap"])


def test_art_draws_the_real_batches(imbalanced):
    X, y, X_val, y_val = imbalanced
    clf = EGAClassifier(
        pretrain_epochs=2, max_epochs=2, art=True, batch_size=32, random_state=0
    ).fit(X, y, X_val=X_val, y_val=y_val)
    assert len(clf.history_[-1, "p"]) == 2
    assert clf.history_[:, "phase"] == [1, 1, 2, 2]


def test_no_smaller_class_warns_and_trains():
    X = np.random.RandomState(0).rand(40, 3)
    y = np.repeat([0, 1], 20)
    with pytest.warns(UserWarning, match="no class is smaller than the largest"):
        clf = EGAClassifier(pretrain_epochs=1, max_epochs=1, random_state=0).fit(X, y)
    assert clf.synthetic_X_.shape == (0, 3)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"eta1": 0.0}, "'eta1' parameter"),
        ({"eta1": -1.0}, "'eta1' parameter"),
        ({"eta2": -0.1}, "'eta2' parameter"),
        ({"synthetic_ratio": 0.0}, "'synthetic_ratio' parameter"),
        ({"synthetic_ratio": 0.01}, "too small to seed points"),
        ({"confidence": 1.5}, "'confidence' parameter"),
    ],
)
def test_bad_parameters(imbalanced, params, match):
    X, y, _, _ = imbalanced
    with pytest.raises(ValueError, match=match):
        EGAClassifier(pretrain_epochs=1, max_epochs=1, **params).fit(X, y)


def test_schedule_early_stopping_and_device(imbalanced, device):
    X, y, X_val, y_val = imbalanced
    clf = EGAClassifier(
        pretrain_epochs=4,
        max_epochs=0,
        lr_schedule="cosine",
        patience=2,
        device=device,
        random_state=0,
    ).fit(X, y, X_val=X_val, y_val=y_val)
    assert 1 <= clf.n_iter_ <= 4
    clf.set_params(max_epochs=3, module__hidden_units=(8,)).fit(X, y)
    assert clf.net_.module_.layers[1].out_features == 8
    assert isinstance(clf.synthetic_X_, np.ndarray)
    assert clf.predict_proba(X).shape == (len(X), 2)


def test_grid_search_over_eta(imbalanced):
    from sklearn.model_selection import GridSearchCV

    X, y, _, _ = imbalanced
    grid = GridSearchCV(
        EGAClassifier(pretrain_epochs=2, max_epochs=2, random_state=0),
        {"eta1": [1e-2, 1e-1], "eta2": [0.0, 10.0]},
        cv=2,
        scoring="average_precision",
    ).fit(X, y)
    assert set(grid.best_params_) == {"eta1", "eta2"}


# -- sample weights, warm start --------------------------------------


def test_weighted_outer_loss_equals_repeated_validation_rows():
    net = _tanh_net()
    Z, y_z, X, y, X_val, y_val = _batches()
    w = torch.tensor([1, 3, 0, 2, 1, 1, 2], dtype=torch.float64)
    origin = torch.repeat_interleave(torch.arange(7), w.long())
    *_, grad_w, loss_w = meta_gradients(
        net, nn.CrossEntropyLoss(), Z, y_z, X, y, X_val, y_val, 0.5, w_val=w / w.mean()
    )
    *_, grad_r, loss_r = meta_gradients(
        net, CE, Z, y_z, X, y, X_val[origin], y_val[origin], 0.5
    )
    torch.testing.assert_close(loss_w, loss_r)
    torch.testing.assert_close(grad_w, grad_r)
    with pytest.raises(ValueError, match="has no `reduction` attribute"):
        meta_gradients(net, CE, Z, y_z, X, y, X_val, y_val, 0.5, w_val=w)


def test_weighted_points_carry_their_rows_weight(imbalanced):
    X, y, _, _ = imbalanced
    w = (np.arange(len(y)) % 3 != 0) * (1.0 + np.arange(len(y)) % 2)  # 0, 1, 2
    clf = EGAClassifier(pretrain_epochs=2, max_epochs=2, random_state=0)
    clf.fit(X, y, sample_weight=w)
    # Rows of weight 0 seed nothing; each point has its row's weight / mean.
    X32 = X.astype(np.float32)
    seeds = [np.flatnonzero((X32 == z).all(axis=1))[0] for z in clf.synthetic_init_X_]
    assert np.all(w[seeds] > 0) and len(np.unique(w[seeds])) == 2
    ratio = clf.synthetic_sample_weight_ / w[seeds]
    np.testing.assert_allclose(ratio, ratio[0])


def test_warm_start_continues_points_network_and_history(imbalanced):
    X, y, _, _ = imbalanced
    clf = EGAClassifier(
        pretrain_epochs=3, max_epochs=2, eta2=10.0, warm_start=True, random_state=0
    ).fit(X, y)
    n_first = len(clf.history_)
    points, init = clf.synthetic_X_.copy(), clf.synthetic_init_X_.copy()
    steps = clf.net_.optimizer_.state_dict()["state"][0]["step"].item()
    # eta2=0: the points stay where the first fit left them.
    clf.set_params(pretrain_epochs=0, max_epochs=3, eta2=0.0).fit(X, y)
    np.testing.assert_array_equal(clf.synthetic_X_, points)
    np.testing.assert_array_equal(clf.synthetic_init_X_, init)
    assert clf.n_iter_ == len(clf.history_) == n_first + 3
    assert clf.history_[n_first:, "phase"] == [2, 2, 2]
    # EGA's monitor and the warm start agree: the best epoch is a row of
    # the whole history, the best of this fit's epochs.
    ap = clf.history_[n_first:, "valid_ap"]
    assert clf.best_epoch_ == n_first + 1 + int(np.argmax(ap))
    # Phase 1 again: Adam goes on from its state.
    clf.set_params(pretrain_epochs=2, max_epochs=0).fit(X, y)
    assert clf.net_.optimizer_.state_dict()["state"][0]["step"].item() > steps
    fresh = clone(clf).set_params(warm_start=False).fit(X, y)
    assert len(fresh.history_) == 2
