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
