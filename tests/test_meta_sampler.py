"""MetaSampler: the shipped weights, save/load, inference, meta-training, bad input."""

import json
from importlib import resources

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification

from skart.ensemble import MetaSampler
from skart.ensemble._cascade import STATE_VERSION
from skart.ensemble._meta_sampler import ACTOR_KEYS


@pytest.fixture(scope="module")
def task():
    return make_classification(n_samples=800, weights=[0.9], random_state=0)


def test_shipped_file_loads_without_pickle_and_has_metadata():
    ref = resources.files("skart.ensemble").joinpath("_data", "meta_sampler_v1.npz")
    with resources.as_file(ref) as path, np.load(path, allow_pickle=False) as f:
        assert set(ACTOR_KEYS) <= set(f.files)
        assert int(f["n_bins"]) == 5 and float(f["sigma"]) == 0.2
        assert int(f["state_version"]) == STATE_VERSION
        config = json.loads(str(f["train_config"]))
        assert config["estimator"] == "None" and len(config["tasks"]) == 8
        assert f["W_hidden"].shape == (10, 50)
    sampler = MetaSampler.pretrained()
    assert sampler.is_trained() and sampler.sigma == 0.2 and sampler.n_bins == 5


def test_act_deterministic_and_reproducible():
    sampler = MetaSampler.pretrained()
    states = (
        np.random.RandomState(0).dirichlet(np.ones(5), size=(4, 2)).reshape(4, 10) * 5
    )
    mu = sampler.act(states, deterministic=True)
    assert mu.shape == (4,) and np.all((mu > 0) & (mu < 1))
    np.testing.assert_array_equal(mu, sampler.act(states, deterministic=True))
    np.testing.assert_array_equal(
        sampler.act(states, random_state=1), sampler.act(states, random_state=1)
    )
    assert not np.array_equal(sampler.act(states, random_state=1), mu)


def test_save_load_round_trip_and_clone_keeps_weights(tmp_path):
    weights = MetaSampler.random_weights(random_state=0)
    sampler = MetaSampler(weights=weights, sigma=0.3)
    sampler.save(tmp_path / "s.npz", note="test")
    loaded = MetaSampler.load(tmp_path / "s.npz")
    assert loaded.sigma == 0.3
    states = np.ones((3, 10))
    np.testing.assert_allclose(
        loaded.act(states, deterministic=True),
        sampler.act(states, deterministic=True),
        atol=1e-6,  # saved as float32
    )
    cloned = clone(loaded)
    assert cloned.is_trained()
    np.testing.assert_array_equal(
        cloned.act(states, deterministic=True), loaded.act(states, deterministic=True)
    )


def test_fit_is_reproducible_and_several_tasks(task):
    X, y = task
    params = dict(n_steps=40, start_steps=10, batch_size=8, episode_length=5)
    a = MetaSampler(random_state=0, **params).fit(X, y)
    b = MetaSampler(random_state=0, **params).fit(X, y)
    for k in ACTOR_KEYS:
        np.testing.assert_array_equal(a.weights_[k], b.weights_[k])
    assert len(a.episode_scores_) == 10 and a.fit_time_ > 0
    X2, y2 = make_classification(n_samples=500, weights=[0.8], random_state=1)
    multi = MetaSampler(random_state=0, **params).fit(
        tasks=[(X, y), (X2[:400], y2[:400], X2[400:], y2[400:])]
    )
    assert len(multi.episode_scores_) == 10
    # continuing from weights starts from them
    warm = MetaSampler(weights=a.weights_, random_state=0, **params).fit(X, y)
    assert warm.weights_["W_hidden"].shape == (10, 50)


def test_fit_rejects_bad_input(task):
    X, y = task
    with pytest.raises(ValueError, match="Pass X and y, or tasks"):
        MetaSampler().fit()
    with pytest.raises(ValueError, match="either X and y or tasks"):
        MetaSampler().fit(X, y, tasks=[(X, y)])
    with pytest.raises(ValueError, match="got a tuple of 3"):
        MetaSampler().fit(tasks=[(X, y, X)])
    y_one = np.r_[np.zeros(len(y) - 1, dtype=int), 1]
    with pytest.raises(ValueError, match=r"no rows of classes \[1\]"):
        MetaSampler(n_steps=5).fit(X, y_one)
    with pytest.raises(ValueError, match="'sigma' parameter"):
        MetaSampler(sigma=0).fit(X, y)


def test_weight_checks_name_both_values(tmp_path):
    with pytest.raises(ValueError, match="has no weights: call fit"):
        MetaSampler().act(np.ones((1, 10)))
    weights = MetaSampler.random_weights(n_bins=3)
    with pytest.raises(ValueError, match="state of size 6 but n_bins=5"):
        MetaSampler(weights=weights).act(np.ones((1, 10)))
    bad = dict(MetaSampler.random_weights(), sigma=np.float64(0.5))
    with pytest.raises(ValueError, match="trained with sigma=0.5 but sigma=0.2"):
        MetaSampler(weights=bad).act(np.ones((1, 10)))
    old = dict(MetaSampler.random_weights(), state_version=np.int64(0))
    with pytest.raises(ValueError, match="state version 0"):
        MetaSampler(weights=old).act(np.ones((1, 10)))
    with pytest.raises(ValueError, match=r"lack the arrays \['b_hidden', 'W_mean'"):
        MetaSampler(weights={"W_hidden": np.ones((10, 2))}).act(np.ones((1, 10)))
    MetaSampler(weights=MetaSampler.random_weights(), sigma=0.1).save(
        tmp_path / "f.npz"
    )
    with pytest.raises(ValueError, match="trained with sigma=0.1 but sigma=0.2"):
        MetaSampler.load(tmp_path / "f.npz", sigma=0.2)
