"""Soft Actor-Critic known answers: a contextual bandit and a two-step bootstrap."""

import numpy as np
import pytest
import torch

from skart.ensemble._meta_sampler import policy_forward
from skart.ensemble._sac import SAC, ReplayMemory


def test_numpy_policy_equals_torch_forward():
    torch.manual_seed(3)
    sac = SAC(10)
    weights = sac.actor_weights()
    states = np.random.RandomState(0).uniform(size=(32, 10))
    mean_np, log_std_np = policy_forward(weights, states)
    with torch.no_grad():
        mean_t, log_std_t = sac.actor(torch.as_tensor(states, dtype=torch.float32))
    np.testing.assert_allclose(mean_np, mean_t[:, 0].numpy(), atol=1e-6)
    np.testing.assert_allclose(log_std_np, log_std_t[:, 0].numpy(), atol=1e-6)
    mu = 0.5 * np.tanh(mean_np) + 0.5
    assert np.all((mu > 0) & (mu < 1))


def test_sac_learns_a_contextual_bandit():
    # one step, reward -(a - s0)^2: the best action tracks the state's first entry
    torch.manual_seed(0)
    rng = np.random.RandomState(0)
    sac = SAC(10, alpha=0.01, lr=3e-3)
    memory = ReplayMemory(2000, 10)
    for _ in range(2000):
        s = rng.uniform(size=10)
        a = rng.uniform()
        memory.push(s, a, -100 * (a - s[0]) ** 2, s, True)
    for _ in range(2000):
        sac.update(memory.sample(64, rng))
    held_out = rng.uniform(size=(200, 10))
    mean, _ = policy_forward(sac.actor_weights(), held_out)
    action = 0.5 * np.tanh(mean) + 0.5
    inner = (held_out[:, 0] > 0.1) & (held_out[:, 0] < 0.9)
    assert np.mean(np.abs(action - held_out[:, 0])[inner]) < 0.05


@pytest.mark.parametrize("gamma", [0.5, 0.0])
def test_sac_bootstraps_over_two_steps(gamma):
    # s_a -> s_b (reward 0, not done) -> end (reward 1, done), whatever the
    # action: Q(s_b) = 1 and Q(s_a) = gamma * 1. A mask of `done` instead of
    # `1 - done` would give Q(s_a) = 0 and Q(s_b) > 1.
    torch.manual_seed(0)
    rng = np.random.RandomState(0)
    s_a, s_b = np.eye(4)[0], np.eye(4)[1]
    sac = SAC(4, alpha=0.0, gamma=gamma, tau=0.05, lr=3e-3)
    memory = ReplayMemory(400, 4)
    for _ in range(200):
        memory.push(s_a, rng.uniform(), 0.0, s_b, False)
        memory.push(s_b, rng.uniform(), 1.0, s_a, True)
    for _ in range(1500):
        sac.update(memory.sample(64, rng))
    actions = torch.linspace(0.05, 0.95, 7)[:, None]
    with torch.no_grad():
        q_a = torch.min(
            *sac.critic(torch.tensor(s_a, dtype=torch.float32).repeat(7, 1), actions)
        )
        q_b = torch.min(
            *sac.critic(torch.tensor(s_b, dtype=torch.float32).repeat(7, 1), actions)
        )
    assert q_b.mean().item() == pytest.approx(1.0, abs=0.05)
    assert q_a.mean().item() == pytest.approx(gamma, abs=0.05)
