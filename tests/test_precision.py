"""``precision`` (autocast mixed precision) and ``compile`` (torch.compile) on
every network estimator: what they train and predict, what they refuse, and
that the defaults add nothing to the step."""

import io
import pickle

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from skorch.callbacks import Callback

import skart
from skart import ARTClassifier, AutoSMOTEClassifier, EGAClassifier
from skart._params import InvalidParameterError


@pytest.fixture(scope="module")
def easy():
    """Two well-separated, imbalanced classes: any working fit is near 100%."""
    return make_classification(
        n_samples=600,
        n_features=8,
        n_informative=4,
        n_redundant=0,
        weights=[0.8],
        class_sep=2.0,
        random_state=0,
    )


# Dtypes of the Linear layers' outputs seen while training / predicting.
SEEN = {"train": set(), "predict": set()}


def _record(module, args, output):
    SEEN["train" if module.training else "predict"].add(output.dtype)


class LinearDtypes(Callback):
    """Hook every Linear layer of the module to record its output dtypes."""

    def on_train_begin(self, net, **kwargs):
        for layer in net.module_.modules():
            if isinstance(layer, torch.nn.Linear) and not layer._forward_hooks:
                layer.register_forward_hook(_record)


def test_bfloat16_learns_on_cpu(network_estimator, easy):
    X, y = easy
    for seen in SEEN.values():
        seen.clear()
    clf = network_estimator(precision="bfloat16", callbacks=[LinearDtypes()])
    clf.fit(X, y)
    # The forward passes of training and prediction were autocast ...
    assert SEEN["train"] == {torch.bfloat16}
    proba = clf.predict_proba(X)
    assert SEEN["predict"] == {torch.bfloat16}
    # ... the parameters stayed float32, the probabilities are float.
    assert {p.dtype for p in clf.net_.module_.parameters()} == {torch.float32}
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert (clf.predict(X) == y).mean() > 0.9  # the majority class is 0.8


def test_bfloat16_model_saves_and_loads(network_estimator, easy):
    # The file records the precision: the loaded model predicts as the saved one.
    X, y = easy
    clf = network_estimator(precision="bfloat16").fit(X, y)
    buffer = io.BytesIO()
    clf.save_fitted(buffer)
    buffer.seek(0)
    loaded = skart.load_fitted(buffer, device="cpu")
    assert loaded.precision == "bfloat16"
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_float16_on_cpu_is_refused(network_estimator, easy):
    X, y = easy
    with pytest.raises(ValueError, match="use precision='bfloat16'"):
        network_estimator(precision="float16").fit(X, y)


@pytest.mark.parametrize(
    "params, match",
    [({"precision": "half"}, "precision"), ({"compile": "yes"}, "compile")],
)
def test_parameters_are_validated(easy, params, match):
    X, y = easy
    with pytest.raises(InvalidParameterError, match=f"'{match}' parameter"):
        ARTClassifier(max_epochs=1, **params).fit(X, y)


def test_float32_uses_no_autocast(network_estimator, easy, monkeypatch):
    # float32 is today's step: no autocast context at all, no compilation.
    def refuse(*args, **kwargs):
        raise AssertionError("float32 entered torch.autocast or torch.compile")

    monkeypatch.setattr(torch, "autocast", refuse)
    monkeypatch.setattr(torch, "compile", refuse)
    X, y = easy
    clf = network_estimator().fit(X, y)
    clf.predict_proba(X)
    assert clf.net_.grad_scaler_ is None


class CPUScaler(Callback):
    """Give the net a gradient scaler on the CPU: the float16 step's plumbing."""

    def on_train_begin(self, net, **kwargs):
        if net.grad_scaler_ is None:
            net.grad_scaler_ = torch.amp.GradScaler("cpu")


@pytest.mark.parametrize(
    "make",
    [
        lambda **kw: ARTClassifier(max_epochs=4, **kw),
        lambda **kw: AutoSMOTEClassifier(
            max_epochs=3, k_max=3, objective="joint", **kw
        ),
    ],
    ids=["art", "autosmote_joint"],
)
def test_scaled_step_is_the_plain_step(easy, make):
    # The scale is a power of two: scaled and unscaled float32 gradients are
    # the same numbers, so a fit through the scaler's step is the plain fit.
    X, y = easy
    plain = make(lr=1e-2, random_state=0).fit(X, y)
    scaled = make(lr=1e-2, random_state=0, callbacks=[CPUScaler()]).fit(X, y)
    np.testing.assert_allclose(
        scaled.predict_proba(X), plain.predict_proba(X), rtol=0, atol=1e-6
    )


@pytest.mark.slow  # torch.compile takes tens of seconds on a small CPU
def test_compile_fits_saves_and_loads(easy, tmp_path):
    X, y = easy
    params = dict(
        max_epochs=4, lr=1e-2, random_state=0, module__dropout=0.0, patience=None
    )
    plain = ARTClassifier(**params).fit(X, y)
    compiled = ARTClassifier(compile=True, checkpoint=tmp_path / "ckpt", **params)
    compiled.fit(X, y)
    assert compiled.net_._compiled is not None
    proba = compiled.predict_proba(X)
    np.testing.assert_allclose(proba, plain.predict_proba(X), atol=1e-4)
    # The module is the plain one: its keys, and what a file holds.
    assert not any("_orig_mod" in k for k in compiled.net_.module_.state_dict())
    buffer = io.BytesIO()
    compiled.save_fitted(buffer)
    buffer.seek(0)
    loaded = skart.load_fitted(buffer, device="cpu")
    assert loaded.compile is True and loaded.net_._compiled is None
    np.testing.assert_allclose(loaded.predict_proba(X), proba, atol=1e-5)
    assert loaded.net_._compiled is None  # predicting compiled nothing
    unpickled = pickle.loads(pickle.dumps(compiled))
    assert unpickled.net_._compiled is None
    np.testing.assert_allclose(unpickled.predict_proba(X), proba, atol=1e-5)


@pytest.mark.slow
def test_compile_with_lookahead_steps(easy):
    # EGA's meta step and AutoSMOTE's bilevel look-ahead run the plain module.
    X, y = easy
    for clf in (
        EGAClassifier(pretrain_epochs=2, max_epochs=2, compile=True, random_state=0),
        AutoSMOTEClassifier(max_epochs=2, k_max=3, compile=True, random_state=0),
    ):
        proba = clf.fit(X, y).predict_proba(X)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)


@pytest.mark.parametrize(
    "make, match",
    [
        (
            lambda: EGAClassifier(pretrain_epochs=1, max_epochs=1),
            "EGA's phase-2 meta step",
        ),
        (lambda: AutoSMOTEClassifier(max_epochs=1, k_max=2), "objective='bilevel'"),
    ],
    ids=["ega", "autosmote_bilevel"],
)
def test_lookahead_nets_refuse_float16(easy, make, match):
    # What their nets say when training begins in float16 (on CUDA: fit has
    # refused float16 on the CPU before; the CUDA tests below run it there).
    X, y = easy
    net = make().fit(X, y).net_
    net.precision = "float16"
    with pytest.raises(ValueError, match=match):
        net._begin_precision()


# -- CUDA -----------------------------------------------------------------


def _cuda():
    if not torch.cuda.is_available():
        pytest.skip("CUDA is not available")


class ScaleSpy(Callback):
    def on_epoch_end(self, net, **kwargs):
        net.history.record("loss_scale", net.grad_scaler_.get_scale())


@pytest.mark.cuda
def test_float16_on_cuda_trains_with_a_scaler(easy):
    _cuda()
    X, y = easy
    clf = ARTClassifier(
        max_epochs=5,
        lr=1e-2,
        random_state=0,
        device="cuda",
        precision="float16",
        callbacks=[ScaleSpy()],
    ).fit(X, y)
    assert all(s > 0 for s in clf.history_[:, "loss_scale"])
    proba = clf.predict_proba(X)
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert (clf.predict(X) == y).mean() > 0.9
    assert clf.net_.grad_scaler_ is None  # training state, dropped after fit


@pytest.mark.cuda
def test_float16_on_cuda_joint_autosmote_trains(easy):
    _cuda()
    X, y = easy
    clf = AutoSMOTEClassifier(
        max_epochs=4, k_max=3, objective="joint", device="cuda", precision="float16"
    ).fit(X, y)
    assert (clf.predict(X) == y).mean() > 0.9


@pytest.mark.cuda
@pytest.mark.parametrize(
    "make, match",
    [
        (lambda **kw: EGAClassifier(pretrain_epochs=2, max_epochs=1, **kw), "EGA"),
        (lambda **kw: AutoSMOTEClassifier(max_epochs=1, **kw), "bilevel"),
    ],
    ids=["ega", "autosmote_bilevel"],
)
def test_float16_lookahead_is_refused_on_cuda(easy, make, match):
    _cuda()
    X, y = easy
    with pytest.raises(ValueError, match=match):
        make(device="cuda", precision="float16").fit(X, y)
