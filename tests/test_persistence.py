"""save_fitted / load_fitted: a round trip without pickle, and files that run no code."""

import os
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import make_classification

from skart import ARTClassifier, AutoSMOTEClassifier
from skart.losses import LDAMLoss

PARAMS = {"max_epochs": 4, "lr": 1e-2, "random_state": 0, "module__hidden_units": (16,)}

# AutoSMOTE's own persistence: its decision networks and its dict parameter.
AUTOSMOTE = {"max_epochs": 3, "batch_size": 64, "random_state": 0}


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
    """(entry, fitted estimator) for every network estimator, fitted weighted."""
    w = np.random.RandomState(0).uniform(0.5, 2.0, len(data[1]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # AutoSMOTE's small classes
        return network_estimator, network_estimator().fit(*data, sample_weight=w)


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


def test_every_estimator_round_trips_bitwise(each_fitted, data, tmp_path):
    # Bitwise predictions, every fitted attribute (EGA's points and their
    # weights, AutoSMOTE's sampling_strategy_ dict and decision
    # distributions) with its type, and every module of the net: AutoSMOTE's
    # decision networks (generator_) without the training data, and the
    # history (ART's distributions included).
    entry, est = each_fitted
    est.save_fitted(tmp_path / "model.pt")
    loaded = entry().load_fitted(tmp_path / "model.pt")
    X, _ = data
    np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
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


def test_loaded_autosmote_continues_with_its_decision_networks(data, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        est = AutoSMOTEClassifier(**AUTOSMOTE).fit(*data)
        est.save_fitted(tmp_path / "model.pt")
        loaded = AutoSMOTEClassifier(**AUTOSMOTE).load_fitted(tmp_path / "model.pt")
        loaded.set_params(warm_start=True, max_epochs=1).fit(*data)
    assert loaded.n_iter_ == est.n_iter_ + 1
    assert loaded.net_.pool is None


def test_sampling_strategy_dict_is_checked(data, tmp_path):
    # A dict parameter is recorded as key/value pairs and compared.
    cls = AutoSMOTEClassifier
    params = {**AUTOSMOTE, "max_epochs": 1, "sampling_strategy": {"high": 40}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        est = cls(**params).fit(*data)
    est.save_fitted(tmp_path / "model.pt")
    loaded = cls(**params).load_fitted(tmp_path / "model.pt")
    assert_same(loaded.sampling_strategy_, est.sampling_strategy_)
    other = {**params, "sampling_strategy": {"high": 60}}
    with pytest.raises(ValueError, match=r"sampling_strategy=\[\['high', 40\]\]"):
        cls(**other).load_fitted(tmp_path / "model.pt")


def test_round_trip_with_criterion_state(data, tmp_path):
    # LDAM keeps per-class margins as a buffer: it travels with the file.
    params = {**PARAMS, "criterion": LDAMLoss}
    est = ARTClassifier(**params).fit(*data)
    est.save_fitted(tmp_path / "ldam.pt")
    loaded = ARTClassifier(**params).load_fitted(tmp_path / "ldam.pt")
    np.testing.assert_array_equal(
        loaded.predict_proba(data[0]), est.predict_proba(data[0])
    )


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
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        entry().load_fitted(path)
    assert not (tmp_path / "pwned").exists()


def test_every_estimator_refuses_other_parameters(each_fitted, tmp_path):
    entry, est = each_fitted
    path = tmp_path / "model.pt"
    est.save_fitted(path)
    ((key, value),) = entry.changed.items()
    with pytest.raises(
        ValueError, match=rf"other parameters: {key}=\S+ \(here {value!r}\)"
    ):
        entry(**entry.changed).load_fitted(path)


def test_load_refuses_missing_modules(each_fitted, tmp_path):
    entry, est = each_fitted
    path = tmp_path / "model.pt"
    est.save_fitted(path)
    state = torch.load(path, weights_only=True)
    del state["modules"]["module"]
    torch.save(state, path)
    with pytest.raises(ValueError, match="holds the modules"):
        entry().load_fitted(path)


def test_load_refuses_other_estimators_and_files(fitted, tmp_path):
    path = tmp_path / "model.pt"
    fitted.save_fitted(path)
    with pytest.raises(ValueError, match=r"other parameters: max_epochs=4 \(here 9\)"):
        ARTClassifier(**{**PARAMS, "max_epochs": 9}).load_fitted(path)
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a file written by save_fitted"):
        ARTClassifier(**PARAMS).load_fitted(tmp_path / "other.pt")
    state = torch.load(path, weights_only=True)
    state["estimator"] = "EGAClassifier"
    torch.save(state, path)
    with pytest.raises(ValueError, match="holds a fitted EGAClassifier, not a"):
        ARTClassifier(**PARAMS).load_fitted(path)


def test_save_needs_a_fitted_estimator(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        ARTClassifier().save_fitted(tmp_path / "x.pt")
