"""save_fitted / skart.load_fitted: a round trip without pickle, from the file
alone and on any device; atomic saves; files that run no code; skart's own
messages for files that are not skart's."""

import builtins
import errno
import io
import os
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import make_classification

import skart
from skart import ARTClassifier, AutoSMOTEClassifier
from skart._nn import _persistence
from skart.losses import LDAMLoss

PARAMS = {"max_epochs": 4, "lr": 1e-2, "random_state": 0, "module__hidden_units": (16,)}

# AutoSMOTE's own persistence: its decision networks and its dict parameter.
AUTOSMOTE = {"max_epochs": 3, "batch_size": 64, "random_state": 0}

FORMAT = _persistence.FORMAT


class TinyNet(torch.nn.Module):
    """A user's module: not one of skart's or torch's classes."""

    def __init__(self, n_features, n_classes, width=8):
        super().__init__()
        self.body = torch.nn.Sequential(
            torch.nn.Linear(n_features, width),
            torch.nn.ReLU(),
            torch.nn.Linear(width, n_classes),
        )

    def forward(self, X):
        return self.body(X)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=300,
        n_features=6,
        n_informative=4,
        n_classes=3,
        weights=[0.6, 0.3, 0.1],
        random_state=0,
    )
    X = pd.DataFrame(X, columns=[f"f{i}" for i in range(6)])
    return X, np.array(["low", "mid", "high"], dtype=object)[y]


@pytest.fixture(scope="module")
def fitted(data):
    return ARTClassifier(**PARAMS).fit(*data)


@pytest.fixture(scope="module")
def each_fitted(network_estimator, data):
    """(entry, fitted estimator) for every network estimator, fitted weighted,
    with one of its own parameters changed from the default configuration."""
    w = np.random.RandomState(0).uniform(0.5, 2.0, len(data[1]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # AutoSMOTE's small classes
        est = network_estimator(**network_estimator.changed)
        return network_estimator, est.fit(*data, sample_weight=w)


def assert_same(loaded, saved):
    """Equal values of the same types, through dicts and arrays."""
    assert type(loaded) is type(saved)
    if isinstance(saved, dict):
        assert list(loaded) == list(saved)
        for k in saved:
            assert type(next(x for x in loaded if x == k)) is type(k)
            assert_same(loaded[k], saved[k])
    elif isinstance(saved, np.ndarray):
        assert loaded.dtype == saved.dtype
        np.testing.assert_array_equal(loaded, saved)
    else:
        assert loaded == saved


def assert_predicts_as(loaded, est, X):
    np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))


def test_every_estimator_round_trips_bitwise(each_fitted, data, tmp_path):
    # From the file alone: the class, every parameter (the method's own
    # changed one included, nothing retyped), bitwise predictions, every
    # fitted attribute (EGA's points and their weights, AutoSMOTE's
    # sampling_strategy_ dict and decision distributions) with its type, and
    # every module of the net: AutoSMOTE's decision networks (generator_)
    # without the training data, and the history (ART's distributions
    # included).
    entry, est = each_fitted
    est.save_fitted(tmp_path / "model.pt")
    loaded = skart.load_fitted(tmp_path / "model.pt")
    assert type(loaded) is entry.cls
    assert loaded.get_params() == est.get_params()
    ((key, value),) = entry.changed.items()
    assert loaded.get_params()[key] == value
    X, _ = data
    assert_predicts_as(loaded, est, X)
    assert loaded.history_.to_list() == est.history_.to_list()
    saved = {k for k in vars(est) if k.endswith("_") and not k.startswith("_")}
    assert saved - {"net_"} <= set(vars(loaded))
    for attr in saved - {"net_"}:
        assert_same(getattr(loaded, attr), getattr(est, attr))
    for module in est.net_._modules + est.net_._criteria:
        ours = getattr(est.net_, module + "_")
        if isinstance(ours, torch.nn.Module):
            theirs = getattr(loaded.net_, module + "_").state_dict()
            for key, tensor in ours.state_dict().items():
                assert torch.equal(theirs[key], tensor), (module, key)
    if entry.name == "autosmote":
        assert isinstance(est.sampling_strategy_, dict)
        assert loaded.net_.pool is None  # no training rows in the loaded net
    if entry.name == "ega":
        assert len(np.unique(loaded.synthetic_sample_weight_)) > 1


def test_every_estimator_saved_on_cuda_loads_on_cpu(each_fitted, data, tmp_path):
    # A file that records device="cuda" (as one written on a GPU does; the
    # weights are saved from the CPU here) loads on the CPU and predicts as
    # the original.
    entry, est = each_fitted
    path = tmp_path / "gpu.pt"
    est.set_params(device="cuda")
    try:
        est.save_fitted(path)
    finally:
        est.set_params(device="cpu")
    assert torch.load(path, weights_only=True)["params"]["device"] == {"scalar": "cuda"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # device="cpu" asked: no warning
        loaded = skart.load_fitted(path, device="cpu")
    assert loaded.device == "cpu"
    assert_predicts_as(loaded, est, data[0])


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_recorded_device_that_is_missing_falls_back_to_cpu(fitted, data, tmp_path):
    path = tmp_path / "gpu.pt"
    fitted.set_params(device="cuda")
    try:
        fitted.save_fitted(path)
    finally:
        fitted.set_params(device="cpu")
    with pytest.warns(UserWarning, match="device='cuda', which is not available"):
        loaded = skart.load_fitted(path)
    assert loaded.device == "cpu"
    assert_predicts_as(loaded, fitted, data[0])


def test_loaded_autosmote_continues_with_its_decision_networks(data, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        est = AutoSMOTEClassifier(**AUTOSMOTE).fit(*data)
        est.save_fitted(tmp_path / "model.pt")
        loaded = skart.load_fitted(tmp_path / "model.pt")
        loaded.set_params(warm_start=True, max_epochs=1).fit(*data)
    assert loaded.n_iter_ == est.n_iter_ + 1
    assert loaded.net_.pool is None


def test_dict_and_tuple_parameters_keep_their_types(data, tmp_path):
    params = {**AUTOSMOTE, "max_epochs": 1, "sampling_strategy": {"high": 40}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        est = AutoSMOTEClassifier(**params).fit(*data)
    est.save_fitted(tmp_path / "model.pt")
    loaded = skart.load_fitted(tmp_path / "model.pt")
    assert_same(loaded.sampling_strategy_, est.sampling_strategy_)
    assert loaded.sampling_strategy == {"high": 40}
    assert loaded.aggregations == est.aggregations
    assert type(loaded.aggregations) is tuple


def test_round_trip_with_criterion_state(data, tmp_path):
    # LDAM keeps per-class margins as a buffer: it travels with the file,
    # and the class is found among skart's own.
    est = ARTClassifier(**PARAMS, criterion=LDAMLoss, criterion__max_margin=0.4).fit(
        *data
    )
    est.save_fitted(tmp_path / "ldam.pt")
    loaded = skart.load_fitted(tmp_path / "ldam.pt")
    assert loaded.criterion is LDAMLoss and loaded.criterion__max_margin == 0.4
    assert_predicts_as(loaded, est, data[0])


def test_file_like_targets_round_trip(fitted, data):
    buffer = io.BytesIO()
    fitted.save_fitted(buffer)
    buffer.seek(0)
    assert_predicts_as(skart.load_fitted(buffer), fitted, data[0])


# -- classes by import path, resolved only when trusted --------------------------


def test_user_module_class_needs_trusted(data, tmp_path):
    fast = {k: v for k, v in PARAMS.items() if k != "module__hidden_units"}
    est = ARTClassifier(TinyNet, **fast, module__width=4).fit(*data)
    path = tmp_path / "mine.pt"
    est.save_fitted(path)
    name = f"{TinyNet.__module__}.TinyNet"
    with pytest.raises(ValueError, match=rf"{name}.*pass it in trusted"):
        skart.load_fitted(path)
    for trusted in ([TinyNet], [name]):
        loaded = skart.load_fitted(path, trusted=trusted)
        assert loaded.module is TinyNet and loaded.module__width == 4
        assert_predicts_as(loaded, est, data[0])


def test_module_instance_is_refused_at_save(data, tmp_path):
    fast = {k: v for k, v in PARAMS.items() if k != "module__hidden_units"}
    est = ARTClassifier(TinyNet(6, 3), **{**fast, "max_epochs": 1}).fit(*data)
    with pytest.raises(TypeError, match=r"module=TinyNet\(\.\.\.\)\) cannot be saved"):
        est.save_fitted(tmp_path / "x.pt")
    assert not os.listdir(tmp_path)


def test_training_only_objects_are_left_out(data, tmp_path):
    # User callbacks and a RandomState instance are not needed to predict:
    # the file leaves them out and the loaded estimator has the defaults.
    from skorch.callbacks import Callback

    est = ARTClassifier(
        **{**PARAMS, "random_state": np.random.RandomState(0)},
        callbacks=[("noop", Callback())],
    ).fit(*data)
    est.save_fitted(tmp_path / "model.pt")
    state = torch.load(tmp_path / "model.pt", weights_only=True)
    assert sorted(state["dropped"]) == ["callbacks", "random_state"]
    loaded = skart.load_fitted(tmp_path / "model.pt")
    assert loaded.callbacks is None and loaded.random_state is None
    assert_predicts_as(loaded, est, data[0])


@pytest.mark.parametrize(
    ("slot", "path", "match"),
    [
        ("module", "os.system", "'os.system', which is not one of skart's"),
        # Reachable from a skart module, but defined elsewhere.
        (
            "module",
            "skart._nn._estimator.warnings.catch_warnings",
            "not a class defined in skart",
        ),
        ("estimator", "sklearn.linear_model.LogisticRegression", "pass it in trusted"),
    ],
)
def test_untrusted_paths_are_refused(fitted, tmp_path, slot, path, match):
    file = tmp_path / "model.pt"
    fitted.save_fitted(file)
    state = torch.load(file, weights_only=True)
    if slot == "estimator":
        state["estimator"] = path
    else:
        state["params"][slot] = {"import": path}
    torch.save(state, file)
    with pytest.raises(ValueError, match=match):
        skart.load_fitted(file)


def test_trusted_estimator_must_be_a_network_estimator(fitted, tmp_path):
    from sklearn.linear_model import LogisticRegression

    file = tmp_path / "model.pt"
    fitted.save_fitted(file)
    state = torch.load(file, weights_only=True)
    state["estimator"] = "sklearn.linear_model._logistic.LogisticRegression"
    torch.save(state, file)
    with pytest.raises(ValueError, match="not one of skart's network estimators"):
        skart.load_fitted(file, trusted=[LogisticRegression])


# -- files that run no code, and files that are not skart's ----------------------


class _Payload:
    def __reduce__(self):
        return (os.mkdir, (self.path,))


@pytest.mark.parametrize("slot", ["history", "attributes"])
def test_tampered_file_runs_no_code(each_fitted, slot, tmp_path):
    entry, est = each_fitted
    path = tmp_path / "model.pt"
    est.save_fitted(path)
    state = torch.load(path, weights_only=True)
    payload = _Payload()
    payload.path = str(tmp_path / "pwned")
    # What an attacker would slip in: a whole entry, or a fitted attribute.
    if slot == "history":
        state["history"] = payload
    else:
        state["attributes"]["classes_"] = payload
    torch.save(state, path)
    with pytest.raises(
        ValueError, match="holding objects other than tensors and plain values"
    ) as info:
        skart.load_fitted(path)
    assert isinstance(info.value.__cause__, pickle.UnpicklingError)
    assert not (tmp_path / "pwned").exists()


def _not_skart(path):
    return rf"{path.name} is not a skart model file.*Expected a file written by skart's save_fitted \(format '{FORMAT}'\)"


def test_random_bytes_are_refused(tmp_path):
    path = tmp_path / "model.pt"
    path.write_bytes(np.random.RandomState(0).bytes(123))
    with pytest.raises(
        ValueError,
        match=_not_skart(path).replace(
            ".*",
            r": torch.load could not read it \(found: a file of 123 bytes "
            r"starting with b.*, not a torch zip archive\). ",
        ),
    ) as info:
        skart.load_fitted(path)
    assert info.value.__cause__ is not None


def test_empty_file_is_refused(tmp_path):
    path = tmp_path / "model.pt"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=r"found: an empty file"):
        skart.load_fitted(path)


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.99])
def test_truncated_file_is_refused(fitted, tmp_path, keep):
    path = tmp_path / "model.pt"
    fitted.save_fitted(path)
    content = path.read_bytes()
    path.write_bytes(content[: int(len(content) * keep)])
    with pytest.raises(ValueError, match=_not_skart(path)) as info:
        skart.load_fitted(path)
    assert "truncated or damaged" in str(info.value)
    assert info.value.__cause__ is not None


def test_torch_file_without_the_tag_is_refused(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, path)
    with pytest.raises(
        ValueError,
        match=r"found: a torch file holding a dict with the keys 'weights', "
        "without skart's format tag",
    ):
        skart.load_fitted(path)
    torch.save(torch.zeros(2), path)
    with pytest.raises(ValueError, match=_not_skart(path)):
        skart.load_fitted(path)


@pytest.mark.parametrize(
    ("tag", "match"),
    [
        ("skart-fitted-v2", "earlier development version of skart"),
        ("skart-fitted-v1", "earlier development version of skart"),
        ("skart-fitted-v99", "does not know"),
    ],
)
def test_other_format_versions_are_refused(fitted, tmp_path, tag, match):
    path = tmp_path / "model.pt"
    fitted.save_fitted(path)
    state = torch.load(path, weights_only=True)
    state["format"] = tag
    torch.save(state, path)
    with pytest.raises(ValueError, match=match):
        skart.load_fitted(path)


def test_damaged_entries_are_refused(each_fitted, tmp_path):
    entry, est = each_fitted
    path = tmp_path / "model.pt"
    est.save_fitted(path)
    state = torch.load(path, weights_only=True)
    del state["modules"]["module"]
    torch.save(state, path)
    with pytest.raises(
        ValueError, match="damaged skart model file: it holds the modules"
    ):
        skart.load_fitted(path)
    del state["history"]
    torch.save(state, path)
    with pytest.raises(ValueError, match=r"damaged.*\['history'\]"):
        skart.load_fitted(path)


def test_save_needs_a_fitted_estimator(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        ARTClassifier().save_fitted(tmp_path / "x.pt")


# -- atomic saves ---------------------------------------------------------------


class _FillsUp:
    """A file on a disk that is full after ``room`` bytes."""

    def __init__(self, file, room):
        self.file, self.room = file, room

    def write(self, data):
        data = memoryview(data).cast("B")
        if len(data) > self.room:
            self.file.write(data[: self.room])
            self.room = 0
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= len(data)
        return self.file.write(data)

    def __getattr__(self, name):
        return getattr(self.file, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.file.close()


@pytest.mark.parametrize("room", [0, 100, 4000])
def test_save_that_fails_part_way_keeps_the_previous_file(
    fitted, data, tmp_path, monkeypatch, room
):
    path = tmp_path / "model.pt"
    fitted.save_fitted(path)
    before = path.read_bytes()
    other = ARTClassifier(**{**PARAMS, "random_state": 1}).fit(*data)

    def full_disk(file, mode="r", *args, **kwargs):
        opened = builtins.open(file, mode, *args, **kwargs)
        return _FillsUp(opened, room) if "x" in mode else opened

    monkeypatch.setattr(_persistence, "open", full_disk, raising=False)
    with pytest.raises(OSError) as info:
        other.save_fitted(path)
    assert info.value.errno == errno.ENOSPC
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.pt"]  # no temporary file left
    assert_predicts_as(skart.load_fitted(path), fitted, data[0])


def test_save_replaces_the_file_and_leaves_nothing_else(fitted, data, tmp_path):
    path = tmp_path / "model.pt"
    path.write_bytes(b"an older file")
    fitted.save_fitted(str(path))
    assert os.listdir(tmp_path) == ["model.pt"]
    assert_predicts_as(skart.load_fitted(path), fitted, data[0])
