"""Shared fixtures: seeding, devices, the shared data folder, and the one list of
network estimators (``NETWORK_ESTIMATORS``, fixture ``network_estimator``)."""

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import torch

if os.environ.get("PYTEST_XDIST_WORKER"):
    # Two workers on two cores: one torch thread each. More threads
    # oversubscribe the cores, and OpenMP's spinning threads then slow the
    # estimator checks down twentyfold (measured: 170 s against 9 s).
    torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed():
    np.random.seed(0)  # noqa: NPY002 (code under test may use the global RNG)
    torch.manual_seed(0)


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.cuda)])
def device(request):
    if request.param == "cuda" and not torch.cuda.is_available():
        pytest.skip("CUDA is not available")
    return request.param


@pytest.fixture(scope="session")
def shared_data():
    """The offline copies of the benchmark data sets (../shared/data beside the repo)."""
    path = Path(
        os.environ.get(
            "SKART_TEST_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"
        )
    )
    if not path.is_dir():
        pytest.skip(f"shared data folder not found at {path}")
    return path


@pytest.fixture
def weighted_problem():
    """A noisy binary problem whose class 1 weighs 4, for weighted-vs-repeated tests.

    Returns a function ``shares(make_estimator, seeds)``: for each seed it fits
    ``make_estimator(seed)`` plainly, with the weights, and on the rows
    repeated as often as they weigh, and returns each fit's mean predicted
    probability of class 1 on fixed test points, as lists under ``"plain"``,
    ``"weighted"`` and ``"repeated"``.
    """
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=500,
        n_features=5,
        n_informative=2,
        n_redundant=0,
        weights=[0.85],
        flip_y=0.1,
        class_sep=0.5,
        random_state=4,
    )
    X_test = np.random.RandomState(0).normal(size=(2000, 5))
    w = np.where(y == 1, 4, 1)
    origin = np.repeat(np.arange(len(y)), w)
    fits = {
        "plain": lambda est: est.fit(X, y),
        "weighted": lambda est: est.fit(X, y, sample_weight=w),
        "repeated": lambda est: est.fit(X[origin], y[origin]),
    }

    def shares(make_estimator, seeds):
        return {
            kind: [
                fit(make_estimator(seed)).predict_proba(X_test)[:, 1].mean()
                for seed in seeds
            ]
            for kind, fit in fits.items()
        }

    return shares


# -- the network estimators ------------------------------------------------------


@dataclass(frozen=True)
class NetworkEstimator:
    """One network estimator of the shared list: how to make it small and fast.

    ``entry(**overrides)`` makes a fresh estimator with ``params`` and the
    overrides. The other fields are the configurations a test file needs for
    a reason of its own, written here so that an estimator is added once.

    Attributes
    ----------
    name : str
        The test id.
    cls : type
        The estimator class (a ``BaseNetClassifier``).
    params : dict
        Small and fast settings (seconds on a few hundred rows): the core's
        contract, persistence, sample weights and the decision rule.
    changed : dict
        One of the method's own parameters with another value than ``params``
        gives: a saved file must record it (``skart.load_fitted`` rebuilds
        the estimator with it, nothing retyped).
    checks : dict
        Overrides for scikit-learn's common checks. Their data sets are tiny
        (``check_classifiers_train`` asks for 83% training accuracy on about
        100 rows), so the networks need more epochs there.
    learns : dict
        Overrides for the statistical sample-weight tests (a few hundred noisy
        rows): enough training for a weight's effect to show above the
        seed-to-seed noise.
    """

    name: str
    cls: type
    params: dict
    changed: dict
    checks: dict = field(default_factory=dict)
    learns: dict = field(default_factory=dict)

    def __call__(self, **overrides):
        return self.cls(**{**self.params, **overrides})

    def for_checks(self):
        """The estimator for scikit-learn's common checks."""
        return self(**self.checks)

    def __repr__(self):
        return self.name


def _network_estimators():
    from skart import (
        ARTClassifier,
        AutoSMOTEClassifier,
        DecoupledClassifier,
        EGAClassifier,
    )

    fast = {"lr": 1e-2, "random_state": 0}
    return [
        NetworkEstimator(
            "art",
            ARTClassifier,
            {"max_epochs": 6, **fast},
            changed={"c": 0.2},
            checks={"max_epochs": 20},
            # c=1: the class prior alone, which weights set; ART's moves from it
            # by design and would hide a class's weight.
            learns={"max_epochs": 20, "patience": None, "c": 1.0},
        ),
        NetworkEstimator(
            "art_off",
            ARTClassifier,
            {"max_epochs": 6, "art": False, **fast},
            changed={"c": 0.2},
            checks={"max_epochs": 20},
            learns={"max_epochs": 20, "patience": None},
        ),
        NetworkEstimator(
            "ega",
            EGAClassifier,
            {"pretrain_epochs": 4, "max_epochs": 2, **fast},
            changed={"eta2": 1.0},
            checks={"pretrain_epochs": 20, "max_epochs": 3},
            learns={"pretrain_epochs": 20, "max_epochs": 5},
        ),
        NetworkEstimator(
            "autosmote",
            AutoSMOTEClassifier,
            {"max_epochs": 4, "k_max": 3, "objective": "joint", **fast},
            changed={"k_max": 4},
            checks={"max_epochs": 12, "k_max": 2},
            # anchor=0: with the default pull (3) towards SMOTE's balancing
            # decisions, a weight's effect on the predicted share (0.04) sits
            # within the seed noise of three fits, and the statistical
            # weight tests measure the weights, not the pull.
            learns={"max_epochs": 15, "anchor": 0.0},
        ),
        NetworkEstimator(
            "decoupled",
            DecoupledClassifier,
            {"max_epochs": 6, "crt_epochs": 3, **fast},
            changed={"method": "tau_norm"},
            checks={"max_epochs": 20, "crt_epochs": 5},
            learns={"max_epochs": 20, "crt_epochs": 5, "patience": None},
        ),
    ]


# Every network estimator built on the core (skart._nn): the common checks and
# the persistence, sample-weight, decision and core-contract tests run over
# it. A new method joins them all with one entry here.
NETWORK_ESTIMATORS = _network_estimators()


@pytest.fixture(scope="session", params=NETWORK_ESTIMATORS, ids=repr)
def network_estimator(request):
    """A :class:`NetworkEstimator` of the list: call it for a fresh estimator."""
    return request.param
