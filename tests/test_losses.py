"""Tests for skart.losses: reference values, validation and skorch integration."""

import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.base import clone
from sklearn.datasets import make_classification
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback

from skart.losses import (
    BalancedSoftmaxLoss,
    CostSensitiveCrossEntropy,
    DeferredReweighting,
    FocalLoss,
    LDAMLoss,
    OHEMCrossEntropy,
    class_balanced_weights,
)

COUNTS = np.array([60.0, 30.0, 10.0])


@pytest.fixture
def batch():
    """Fixed float64 logits (N=12, K=3) and targets covering every class."""
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(12, 3, generator=gen, dtype=torch.float64) * 2
    target = torch.tensor([0, 1, 2, 0, 0, 1, 2, 2, 1, 0, 1, 2])
    return logits, target


def _log_softmax_np(z):
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def _all_criteria():
    """One instance of every criterion, with class counts where needed."""
    return [
        CostSensitiveCrossEntropy(class_counts=COUNTS),
        CostSensitiveCrossEntropy(class_counts=COUNTS, beta=0.99),
        FocalLoss(gamma=2.0),
        FocalLoss(gamma=0.5, alpha=[0.2, 0.3, 0.5], weight=[1.0, 2.0, 3.0]),
        OHEMCrossEntropy(keep_ratio=0.5),
        LDAMLoss(class_counts=COUNTS, scale=2.0),
        BalancedSoftmaxLoss(class_counts=COUNTS),
    ]


# --------------------------------------------------------------------------
# class_balanced_weights
# --------------------------------------------------------------------------


def test_class_balanced_weights_inverse_frequency():
    w = class_balanced_weights(COUNTS)
    expected = (1 / COUNTS) * 3 / (1 / COUNTS).sum()
    np.testing.assert_allclose(w.numpy(), expected, rtol=1e-6)
    assert w.dtype == torch.float32
    assert w.sum().item() == pytest.approx(3.0)


def test_class_balanced_weights_effective_number():
    beta = 0.99
    raw = (1 - beta) / (1 - beta**COUNTS)
    np.testing.assert_allclose(
        class_balanced_weights(COUNTS, beta=beta).numpy(),
        3 * raw / raw.sum(),
        rtol=1e-6,
    )
    # beta = 0: uniform; beta -> 1: inverse frequency.
    np.testing.assert_allclose(class_balanced_weights(COUNTS, beta=0.0).numpy(), 1.0)
    np.testing.assert_allclose(
        class_balanced_weights(COUNTS, beta=1 - 1e-9).numpy(),
        class_balanced_weights(COUNTS).numpy(),
        rtol=1e-4,
    )
    # Tensors are accepted too.
    torch.testing.assert_close(
        class_balanced_weights(torch.tensor(COUNTS), beta=beta),
        class_balanced_weights(COUNTS, beta=beta),
    )


# --------------------------------------------------------------------------
# Reference values
# --------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cost_sensitive_matches_weighted_cross_entropy(batch, reduction):
    logits, target = batch
    inv = 1.0 / COUNTS
    weight = torch.tensor(3 * inv / inv.sum(), dtype=torch.float64)  # by hand
    loss = CostSensitiveCrossEntropy(class_counts=COUNTS, reduction=reduction)
    expected = F.cross_entropy(logits, target, weight=weight, reduction=reduction)
    torch.testing.assert_close(loss(logits, target), expected)
    torch.testing.assert_close(loss.class_weights().double(), weight)


def test_cost_sensitive_beta(batch):
    logits, target = batch
    weight = class_balanced_weights(COUNTS, beta=0.9).double()
    loss = CostSensitiveCrossEntropy(class_counts=COUNTS, beta=0.9)
    expected = F.cross_entropy(logits, target, weight=weight)
    torch.testing.assert_close(loss(logits, target), expected)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weight", [None, [1.0, 2.0, 0.5]])
def test_focal_gamma_zero_is_exactly_cross_entropy(batch, reduction, weight):
    logits, target = batch
    w = None if weight is None else torch.tensor(weight, dtype=torch.float64)
    focal = FocalLoss(gamma=0.0, weight=weight, reduction=reduction)
    expected = F.cross_entropy(logits, target, weight=w, reduction=reduction)
    assert torch.equal(focal(logits, target), expected)


def test_focal_matches_numpy(batch):
    logits, target = batch
    gamma, alpha = 2.0, np.array([0.25, 0.5, 1.0])
    log_pt = _log_softmax_np(logits.numpy())[np.arange(12), target.numpy()]
    per_sample = -alpha[target.numpy()] * (1 - np.exp(log_pt)) ** gamma * log_pt
    loss = FocalLoss(gamma=gamma, alpha=alpha, reduction="none")
    np.testing.assert_allclose(loss(logits, target).numpy(), per_sample, rtol=1e-10)
    loss.reduction = "mean"
    assert loss(logits, target).item() == pytest.approx(per_sample.mean())


def test_focal_binary_float_alpha():
    logits = torch.tensor([[1.0, -1.0], [0.5, 0.2], [-0.3, 0.4]])
    target = torch.tensor([0, 1, 1])
    scalar = FocalLoss(alpha=0.25, reduction="none")(logits, target)
    vector = FocalLoss(alpha=[0.75, 0.25], reduction="none")(logits, target)
    torch.testing.assert_close(scalar, vector)
    with pytest.raises(ValueError, match="alpha has 2 entries but logits have 3"):
        FocalLoss(alpha=0.25)(torch.zeros(2, 3), torch.tensor([0, 2]))


def test_focal_finite_gradient_when_saturated():
    # p_t == 1 in float32: (1 - p)^gamma with gamma < 1 has an infinite
    # derivative there unless clamped.
    logits = torch.tensor([[100.0, 0.0], [0.0, 3.0]], requires_grad=True)
    loss = FocalLoss(gamma=0.5)(logits, torch.tensor([0, 1]))
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(logits.grad).all()


def test_ohem_keeps_exactly_the_k_hardest(batch):
    logits, target = batch
    logits = logits.clone().requires_grad_(True)
    per_sample = F.cross_entropy(logits, target, reduction="none").detach()
    hardest = torch.argsort(per_sample, descending=True)[:6]  # ceil(0.5 * 12)

    loss = OHEMCrossEntropy(keep_ratio=0.5)
    value = loss(logits, target)
    torch.testing.assert_close(value, per_sample[hardest].mean())
    # Only the kept samples receive gradient.
    value.backward()
    has_grad = logits.grad.abs().sum(dim=1) > 0
    assert set(torch.nonzero(has_grad).ravel().tolist()) == set(hardest.tolist())

    none = OHEMCrossEntropy(keep_ratio=0.5, reduction="none")(logits, target)
    expected = torch.zeros_like(per_sample)
    expected[hardest] = per_sample[hardest]
    torch.testing.assert_close(none.detach(), expected)
    summed = OHEMCrossEntropy(keep_ratio=0.5, reduction="sum")(logits, target)
    torch.testing.assert_close(summed.detach(), per_sample[hardest].sum())


@pytest.mark.parametrize("weight", [None, [1.0, 2.0, 0.5]])
def test_ohem_keep_all_is_cross_entropy(batch, weight):
    logits, target = batch
    w = None if weight is None else torch.tensor(weight, dtype=torch.float64)
    expected = F.cross_entropy(logits, target, weight=w)
    value = OHEMCrossEntropy(keep_ratio=1.0, weight=weight)(logits, target)
    torch.testing.assert_close(value, expected)


@pytest.mark.parametrize(
    "keep_ratio, min_kept, n_samples, expected",
    [
        (0.7, 1, 10, 7),  # 0.7 * 10 == 7.000000000000001 in floating point
        (0.5, 1, 5, 3),  # ceil
        (0.01, 1, 10, 1),
        (0.1, 4, 10, 4),  # min_kept wins
        (0.5, 8, 5, 5),  # never more than the batch
        (1.0, 1, 3, 3),
    ],
)
def test_ohem_n_kept(keep_ratio, min_kept, n_samples, expected):
    loss = OHEMCrossEntropy(keep_ratio=keep_ratio, min_kept=min_kept)
    assert loss.n_kept(n_samples) == expected


def test_ldam_matches_numpy(batch):
    logits, target = batch
    max_margin, scale = 0.5, 2.0
    margins = COUNTS**-0.25
    margins = margins * max_margin / margins.max()
    z = logits.numpy().copy()
    rows, y = np.arange(len(z)), target.numpy()
    z[rows, y] -= margins[y]
    per_sample = -_log_softmax_np(scale * z)[rows, y]

    loss = LDAMLoss(COUNTS, max_margin=max_margin, scale=scale, reduction="none")
    np.testing.assert_allclose(loss(logits, target).numpy(), per_sample, rtol=1e-6)
    np.testing.assert_allclose(loss.margins().numpy(), margins, rtol=1e-6)
    assert loss.margins().max().item() == pytest.approx(max_margin)

    weight = np.array([1.0, 2.0, 3.0])
    weighted = LDAMLoss(COUNTS, max_margin=max_margin, scale=scale, weight=weight)
    expected = (weight[y] * per_sample).sum() / weight[y].sum()
    assert weighted(logits, target).item() == pytest.approx(expected, rel=1e-6)


def test_ldam_zero_margin_is_scaled_cross_entropy(batch):
    logits, target = batch
    loss = LDAMLoss(COUNTS, max_margin=0.0, scale=3.0)
    torch.testing.assert_close(
        loss(logits, target), F.cross_entropy(3 * logits, target)
    )


def test_balanced_softmax_is_cross_entropy_on_shifted_logits(batch):
    logits, target = batch
    log_prior = torch.log(torch.tensor(COUNTS))
    expected = F.cross_entropy(logits + log_prior, target)
    torch.testing.assert_close(BalancedSoftmaxLoss(COUNTS)(logits, target), expected)
    # Uniform counts: the shift is a constant and cancels in the softmax.
    uniform = BalancedSoftmaxLoss([5, 5, 5])(logits, target)
    torch.testing.assert_close(uniform, F.cross_entropy(logits, target))


# --------------------------------------------------------------------------
# Generic behaviour: reductions, gradients, buffers
# --------------------------------------------------------------------------


@pytest.mark.parametrize("criterion", _all_criteria(), ids=repr)
def test_gradients_are_finite(batch, criterion):
    logits, target = batch
    logits = logits.float().requires_grad_(True)
    loss = criterion(logits, target)
    assert loss.ndim == 0
    loss.backward()
    assert torch.isfinite(logits.grad).all()
    assert logits.grad.abs().sum() > 0


@pytest.mark.parametrize(
    "make",
    [
        lambda r: FocalLoss(gamma=1.5, reduction=r),
        lambda r: LDAMLoss(COUNTS, scale=2.0, reduction=r),
        lambda r: BalancedSoftmaxLoss(COUNTS, reduction=r),
    ],
    ids=["focal", "ldam", "balanced_softmax"],
)
def test_reductions_are_consistent(batch, make):
    logits, target = batch
    none = make("none")(logits, target)
    assert none.shape == (12,)
    torch.testing.assert_close(make("sum")(logits, target), none.sum())
    torch.testing.assert_close(make("mean")(logits, target), none.mean())


@pytest.mark.parametrize(
    "cls", [CostSensitiveCrossEntropy, LDAMLoss, BalancedSoftmaxLoss]
)
def test_class_counts_buffer(batch, cls):
    logits, target = batch
    # Unset counts are allowed at construction (the estimator fills them) ...
    unset = cls()
    assert unset.class_counts is None
    unset.to(torch.float64)  # a None buffer must not break device/dtype moves
    assert "class_counts" not in unset.state_dict()
    # ... but not when the loss is evaluated.
    with pytest.raises(ValueError, match="needs class_counts"):
        unset(logits, target)

    loss = cls(class_counts=COUNTS)
    assert loss.class_counts.dtype == torch.float32
    assert "class_counts" in dict(loss.named_buffers())
    torch.testing.assert_close(loss.class_counts, torch.tensor(COUNTS).float())
    assert loss.to(torch.float64).class_counts.dtype == torch.float64
    restored = pickle.loads(pickle.dumps(loss))
    torch.testing.assert_close(restored(logits, target), loss(logits, target))
    # Integer tensors and lists are accepted.
    cls(class_counts=torch.tensor([3, 4, 5]))(logits, target)


def test_weight_attribute_can_be_replaced(batch):
    logits, target = batch
    loss = LDAMLoss(COUNTS, scale=2.0)
    assert loss.weight is None
    loss.weight = torch.tensor([1.0, 2.0, 3.0])
    assert "weight" in dict(loss.named_buffers())
    expected = LDAMLoss(COUNTS, scale=2.0, weight=[1.0, 2.0, 3.0])(logits, target)
    torch.testing.assert_close(loss(logits, target), expected)
    loss.weight = None
    torch.testing.assert_close(
        loss(logits, target), LDAMLoss(COUNTS, scale=2.0)(logits, target)
    )


@pytest.mark.cuda
@pytest.mark.parametrize("criterion", _all_criteria(), ids=repr)
def test_criteria_on_cuda(batch, criterion):
    logits, target = batch
    criterion = criterion.to("cuda")
    on_gpu = criterion(logits.float().cuda(), target.cuda())
    on_cpu = criterion.to("cpu")(logits.float(), target)
    torch.testing.assert_close(on_gpu.cpu(), on_cpu)


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: FocalLoss(gamma=-1.0), "gamma must be a finite number >= 0"),
        (lambda: FocalLoss(gamma=float("nan")), "gamma must be a finite number"),
        (lambda: FocalLoss(alpha=1.5), r"alpha must be in \[0, 1\]"),
        (lambda: FocalLoss(alpha=[0.5, -0.1]), "alpha must be non-negative"),
        (lambda: FocalLoss(weight=[[1.0, 2.0]]), "weight must be a non-empty 1-D"),
        (lambda: OHEMCrossEntropy(keep_ratio=0.0), r"keep_ratio must be in \(0, 1\]"),
        (lambda: OHEMCrossEntropy(keep_ratio=1.5), r"keep_ratio must be in \(0, 1\]"),
        (lambda: OHEMCrossEntropy(min_kept=0), "min_kept must be an integer >= 1"),
        (lambda: OHEMCrossEntropy(min_kept=2.5), "min_kept must be an integer >= 1"),
        (lambda: LDAMLoss([10, -1]), "class_counts must be strictly positive"),
        (lambda: LDAMLoss([10, 0]), "class_counts must be strictly positive"),
        (lambda: LDAMLoss([10, np.nan]), "class_counts must contain only finite"),
        (lambda: LDAMLoss([]), "class_counts must be a non-empty 1-D"),
        (lambda: LDAMLoss(["a", "b"]), "class_counts must be a 1-D array of numbers"),
        (lambda: LDAMLoss(max_margin=-0.1), "max_margin must be a finite number >= 0"),
        (lambda: LDAMLoss(scale=0.0), "scale must be a finite number > 0"),
        (lambda: BalancedSoftmaxLoss([-5, 5]), "class_counts must be strictly"),
        (lambda: CostSensitiveCrossEntropy(beta=1.0), r"beta must be a float in"),
        (lambda: FocalLoss(reduction="avg"), "reduction must be one of"),
        (lambda: class_balanced_weights(None), "class_counts is required"),
    ],
)
def test_invalid_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize(
    "criterion, match",
    [
        (LDAMLoss(class_counts=[5, 5]), "class_counts has 2 entries but logits have 3"),
        (BalancedSoftmaxLoss([5, 5]), "class_counts has 2 entries but logits have 3"),
        (CostSensitiveCrossEntropy([5, 5]), "class_counts has 2 entries"),
        (FocalLoss(weight=[1.0, 2.0]), "weight has 2 entries but logits have 3"),
        (OHEMCrossEntropy(weight=[1.0, 2.0]), "weight has 2 entries"),
    ],
)
def test_shape_mismatch_with_logits(batch, criterion, match):
    logits, target = batch
    with pytest.raises(ValueError, match=match):
        criterion(logits, target)


@pytest.mark.parametrize("criterion", _all_criteria(), ids=repr)
def test_invalid_inputs(criterion):
    with pytest.raises(ValueError, match="logits must have shape"):
        criterion(torch.zeros(4), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="target must have shape"):
        criterion(torch.zeros(4, 3), torch.zeros(5, dtype=torch.long))
    with pytest.raises(ValueError, match="integer class indices"):
        criterion(torch.zeros(4, 3), torch.zeros(4))


# --------------------------------------------------------------------------
# skorch integration
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def imbalanced_data():
    X, y = make_classification(
        n_samples=300,
        n_features=8,
        n_informative=5,
        n_classes=3,
        weights=[0.7, 0.2, 0.1],
        random_state=0,
    )
    return X.astype(np.float32), y.astype(np.int64)


def _mlp(n_features=8, n_classes=3):
    return torch.nn.Sequential(
        torch.nn.Linear(n_features, 16), torch.nn.ReLU(), torch.nn.Linear(16, n_classes)
    )


def _net(criterion, max_epochs=8, **kwargs):
    torch.manual_seed(0)
    return NeuralNetClassifier(
        _mlp(),
        criterion=criterion,
        optimizer=torch.optim.Adam,
        lr=0.01,
        max_epochs=max_epochs,
        batch_size=64,
        train_split=None,
        verbose=0,
        **kwargs,
    )


@pytest.mark.parametrize(
    "criterion, params",
    [
        (CostSensitiveCrossEntropy, {"class_counts": None}),
        (FocalLoss, {"gamma": 2.0}),
        (OHEMCrossEntropy, {"keep_ratio": 0.7}),
        (LDAMLoss, {"class_counts": None, "scale": 1.0}),
        (BalancedSoftmaxLoss, {"class_counts": None}),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_skorch_fit(imbalanced_data, criterion, params):
    X, y = imbalanced_data
    counts = np.bincount(y)
    # Fill class_counts as the skart estimator does.
    params = {
        f"criterion__{k}": counts if k == "class_counts" else v
        for k, v in params.items()
    }
    net = _net(criterion, **params)
    clone(net)  # sklearn-compatible parameters (array-valued class_counts)
    net.fit(X, y)
    losses = net.history[:, "train_loss"]
    assert len(losses) == 8
    assert np.all(np.isfinite(losses))
    assert losses[-1] < losses[0]
    assert isinstance(net.criterion_, criterion)
    assert net.predict(X).shape == y.shape


class _WeightRecorder(Callback):
    """Record the criterion's weight seen by each epoch's training batches."""

    def initialize(self):
        self.weights = {}
        return self

    def on_batch_begin(self, net, training=False, **kwargs):
        if training:
            weight = net.criterion_.weight
            epoch = len(net.history)
            self.weights[epoch] = None if weight is None else weight.clone()


def test_drw_switches_weight_at_start_epoch(imbalanced_data):
    X, y = imbalanced_data
    counts = np.bincount(y)
    recorder = _WeightRecorder()
    net = _net(
        LDAMLoss,
        max_epochs=6,
        criterion__class_counts=counts,
        criterion__scale=1.0,
        callbacks=[DeferredReweighting(start_epoch=4, beta=0.999), recorder],
    )
    net.fit(X, y)

    expected = class_balanced_weights(counts, beta=0.999)
    assert sorted(recorder.weights) == [1, 2, 3, 4, 5, 6]
    for epoch in (1, 2, 3, 4):  # the first start_epoch epochs are unweighted
        assert recorder.weights[epoch] is None
    for epoch in (5, 6):
        torch.testing.assert_close(recorder.weights[epoch], expected)
    assert net.history[:, "drw_active"] == [False] * 4 + [True] * 2
    assert np.all(np.isfinite(net.history[:, "train_loss"]))


def test_drw_default_start_epoch_and_own_counts(imbalanced_data):
    X, y = imbalanced_data
    counts = np.bincount(y)
    # Plain CrossEntropyLoss has a weight buffer but no class counts.
    drw = DeferredReweighting(class_counts=counts)
    net = _net(torch.nn.CrossEntropyLoss, max_epochs=5, callbacks=[drw])
    net.fit(X, y)
    assert drw.start_epoch_ == 4  # int(0.8 * 5)
    assert net.history[:, "drw_active"] == [False] * 4 + [True]
    torch.testing.assert_close(
        net.criterion_.weight, class_balanced_weights(counts, beta=0.9999)
    )


@pytest.mark.parametrize(
    "criterion, drw, match",
    [
        (BalancedSoftmaxLoss, {}, "criterion with a `weight` attribute"),
        (FocalLoss, {}, "DeferredReweighting needs class counts"),
        (LDAMLoss, {"start_epoch": -1}, "start_epoch must be an integer >= 0"),
        (LDAMLoss, {"beta": 1.0}, r"beta must be a float in \[0, 1\)"),
        (LDAMLoss, {"class_counts": [0, 1, 2]}, "strictly positive"),
    ],
)
def test_drw_invalid(imbalanced_data, criterion, drw, match):
    X, y = imbalanced_data
    kwargs = {"criterion__class_counts": np.bincount(y)}
    if criterion is FocalLoss:  # no class_counts parameter, nothing to read
        kwargs = {}
    net = _net(
        criterion, max_epochs=1, callbacks=[DeferredReweighting(**drw)], **kwargs
    )
    with pytest.raises(ValueError, match=match):
        net.fit(X, y)


@pytest.mark.parametrize(
    "cls", [CostSensitiveCrossEntropy, LDAMLoss, BalancedSoftmaxLoss]
)
def test_large_counts_with_half_precision_logits(cls):
    # 1e5 overflows float16: derived quantities are computed in float32.
    logits = torch.tensor([[1.0, -1.0], [0.5, 0.25]], dtype=torch.float16)
    loss = cls(class_counts=[1e5, 10])(logits, torch.tensor([0, 1]))
    assert torch.isfinite(loss)
