"""Shared fixtures: seeding, devices, and the shared data folder."""

import os
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
