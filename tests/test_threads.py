"""The same ``random_state`` gives bitwise the same model one after another, in
threads and in processes (issue 20): each fit draws from its own torch
generators, and a user's module is built under a process-wide lock."""

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
from conftest import NETWORK_ESTIMATORS
from joblib.externals.loky import get_reusable_executor
from sklearn.base import clone
from sklearn.datasets import make_classification
from torch import nn

from skart import MLP, ARTClassifier
from skart._nn._network import Dropout
from skart._nn._random import GLOBAL_RNG_LOCK, FitGenerators, seeded_global

ROUNDS = 3  # rounds of two concurrent fits


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=160, n_features=5, weights=[0.8], random_state=0
    )
    return X.astype(np.float32), y


def concurrent_fits(make, X, y, rounds=ROUNDS):
    """predict_proba of ``2 * rounds`` fits, two at a time in two threads.

    A barrier starts the two fits of a round together, so that they overlap.
    """
    barrier = threading.Barrier(2)

    def fit(_):
        est = make()
        barrier.wait()
        return est.fit(X, y).predict_proba(X)

    out = []
    with ThreadPoolExecutor(2) as pool:
        for _ in range(rounds):
            out += list(pool.map(fit, range(2)))
    return out


def fit_in_process(estimators, X, y):
    """Fit clones of ``estimators`` in another process (loky): the fitted ones.

    One task for all: a worker process starts (imports torch) once.
    """

    def fit(estimators, X, y):
        torch.set_num_threads(1)  # as the tests run (conftest)
        return [est.fit(X, y) for est in estimators]

    executor = get_reusable_executor(max_workers=1, env={"OMP_NUM_THREADS": "1"})
    task = executor.submit(fit, [clone(est) for est in estimators], X, y)
    return task.result(timeout=300)


class UserNet(nn.Module):
    """A user's module: torch's own layers, initialised from the global generator."""

    def __init__(self, n_features, n_classes, dropout=0.0):
        super().__init__()
        self.hidden = nn.Linear(n_features, 16)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(16, n_classes)

    def forward(self, X):
        return self.out(self.drop(torch.relu(self.hidden(X))))


def test_the_same_model_in_another_process(data):
    # Every network estimator (dropout on), and a user's module whose
    # torch.nn.Dropout draws from torch's global generator in forward: seeded
    # by the fit, that is reproducible one fit at a time, in this process or
    # another (concurrent threads share that generator, as the docs say).
    X, y = data
    estimators = [entry(module__dropout=0.3) for entry in NETWORK_ESTIMATORS]
    estimators.append(
        ARTClassifier(
            UserNet, module__dropout=0.3, max_epochs=4, lr=1e-2, random_state=0
        )
    )
    remote = fit_in_process(estimators, X, y)
    for est, fitted in zip(estimators, remote):
        expected = clone(est).fit(X, y).predict_proba(X)
        np.testing.assert_array_equal(clone(est).fit(X, y).predict_proba(X), expected)
        np.testing.assert_array_equal(fitted.predict_proba(X), expected)


def test_every_network_estimator_fits_the_same_model_in_threads(
    network_estimator, data, device
):
    X, y = data
    # Dropout on (the default MLP's, drawn from the fit's generator).
    make = lambda: network_estimator(module__dropout=0.3, device=device)  # noqa: E731
    expected = make().fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(make().fit(X, y).predict_proba(X), expected)
    for proba in concurrent_fits(make, X, y):
        np.testing.assert_array_equal(proba, expected)


def test_a_users_module_is_built_under_the_lock_the_same_in_threads(data):
    # No global draws in forward: the construction under the lock is all it takes.
    X, y = data
    make = lambda: ARTClassifier(UserNet, max_epochs=4, lr=1e-2, random_state=0)  # noqa: E731
    expected = make().fit(X, y).predict_proba(X)
    for proba in concurrent_fits(make, X, y):
        np.testing.assert_array_equal(proba, expected)


def test_a_module_instance_keeps_its_weights():
    # A module given as an instance is used as given: not re-initialised.
    X, y = make_classification(n_samples=60, n_features=4, random_state=0)
    module = MLP(4, 2)
    with torch.no_grad():
        module.layers[1].weight.fill_(0.5)
    est = ARTClassifier(module, max_epochs=1, lr=1e-12, random_state=0).fit(X, y)
    torch.testing.assert_close(
        est.net_.module_.layers[1].weight, torch.full((64, 4), 0.5)
    )


def test_the_fitted_module_holds_no_generator(data):
    X, y = data
    est = ARTClassifier(max_epochs=1, random_state=0).fit(X, y)
    assert est.net_.random_streams is None
    assert est.net_.module_.generator is None


def test_mlp_reset_parameters_from_a_generator_is_torchs_initialisation():
    # The same draws, in the same order, as construction after manual_seed.
    torch.manual_seed(3)
    built = MLP(7, 3, hidden_units=(5, 4))
    reset = MLP(7, 3, hidden_units=(5, 4))
    reset.reset_parameters(torch.Generator().manual_seed(3))
    for a, b in zip(built.state_dict().values(), reset.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_dropout_draws_its_masks_from_its_generator():
    drop = Dropout(0.25)
    X = torch.ones(2000, 8)
    assert torch.equal(drop.eval()(X), X)
    drop.train()
    drop.generator = torch.Generator().manual_seed(0)
    a = drop(X)
    drop.generator = torch.Generator().manual_seed(0)
    torch.manual_seed(1)  # the global generator plays no part
    b = drop(X)
    assert torch.equal(a, b)
    assert set(a.unique().tolist()) == {0.0, float(np.float32(1 / 0.75))}
    assert abs(float((a == 0).float().mean()) - 0.25) < 0.02
    # Without a generator it is torch's dropout (the global generator).
    drop.generator = None
    torch.manual_seed(0)
    c = drop(X)
    torch.manual_seed(0)
    torch.testing.assert_close(c, nn.functional.dropout(X, 0.25, True))


def test_seeded_global_restores_the_global_state_and_holds_the_lock():
    torch.manual_seed(5)
    before = torch.get_rng_state()
    with seeded_global(11):
        assert GLOBAL_RNG_LOCK._is_owned()
        first = torch.rand(3)
    assert torch.equal(torch.get_rng_state(), before)
    with FitGenerators(11).training():
        # Training holds the lock only while seeding and restoring.
        assert not GLOBAL_RNG_LOCK._is_owned()
        assert torch.equal(torch.rand(3), first)
    assert torch.equal(torch.get_rng_state(), before)
