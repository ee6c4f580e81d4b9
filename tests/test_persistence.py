"""save_fitted / load_fitted: a round trip without pickle, and files that run no code."""

import os
import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import make_classification

from skart import ARTClassifier
from skart.losses import LDAMLoss

PARAMS = {"max_epochs": 4, "lr": 1e-2, "random_state": 0, "module__hidden_units": (16,)}


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=300, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    X = pd.DataFrame(X, columns=[f"f{i}" for i in range(6)])
    return X, np.array(["low", "mid", "high"], dtype=object)[y]


@pytest.fixture(scope="module")
def fitted(data):
    return ARTClassifier(**PARAMS).fit(*data)


def test_round_trip_is_bitwise(fitted, data, tmp_path):
    path = tmp_path / "model.pt"
    fitted.save_fitted(path)
    loaded = ARTClassifier(**PARAMS).load_fitted(path)
    X, _ = data
    np.testing.assert_array_equal(loaded.predict_proba(X), fitted.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), fitted.predict(X))
    for name in ("classes_", "feature_names_in_", "class_counts_"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(fitted, name))
    np.testing.assert_allclose(
        loaded.sampling_distribution_, fitted.sampling_distribution_
    )
    assert loaded.classes_.dtype == fitted.classes_.dtype
    assert loaded.n_features_in_ == 6 and loaded.n_iter_ == fitted.n_iter_
    assert loaded.history_[:, "p"] == fitted.history_[:, "p"]


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


def test_tampered_file_runs_no_code(fitted, tmp_path):
    path = tmp_path / "model.pt"
    fitted.save_fitted(path)
    state = torch.load(path, weights_only=True)
    payload = _Payload()
    payload.path = str(tmp_path / "pwned")
    state["history"] = payload  # what an attacker would slip in
    torch.save(state, path)
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        ARTClassifier(**PARAMS).load_fitted(path)
    assert not (tmp_path / "pwned").exists()


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
