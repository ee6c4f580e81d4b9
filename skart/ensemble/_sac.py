"""Soft Actor-Critic (twin-Q, fixed temperature) for the MESA meta-sampler, in torch.

Only :meth:`skart.ensemble.MetaSampler.fit` imports this module: inference runs
on the numpy copy of the actor's weights (``actor_weights``).
"""

import numpy as np
import torch
from torch import nn


def _init(module):
    # Xavier-uniform weights and zero biases, as the authors' code.
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)


class Actor(nn.Module):
    """Gaussian policy ``{state_dim, hidden, 1}`` squashed to an action in [0, 1]."""

    def __init__(self, state_dim, hidden_size):
        super().__init__()
        self.hidden = nn.Linear(state_dim, hidden_size)
        self.mean = nn.Linear(hidden_size, 1)
        self.log_std = nn.Linear(hidden_size, 1)
        _init(self)

    def forward(self, state):
        h = torch.relu(self.hidden(state))
        return self.mean(h), self.log_std(h).clamp(-20, 2)

    def sample(self, state):
        """Reparameterised action in [0, 1] and its log-density."""
        mean, log_std = self(state)
        std = log_std.exp()
        u = mean + std * torch.randn_like(mean)
        a = torch.tanh(u)
        # log pi(mu) = log N(u) - log |d mu / d u|, mu = 0.5 * tanh(u) + 0.5
        log_prob = torch.distributions.Normal(mean, std).log_prob(u) - torch.log(
            0.5 * (1 - a.pow(2)) + 1e-6
        )
        return 0.5 * a + 0.5, log_prob


class TwinQ(nn.Module):
    """Two Q networks ``{state_dim + 1, hidden, hidden, 1}``."""

    def __init__(self, state_dim, hidden_size):
        super().__init__()

        def q():
            return nn.Sequential(
                nn.Linear(state_dim + 1, hidden_size),
                nn.ReLU(),
                nn.Linear(hidden_size, hidden_size),
                nn.ReLU(),
                nn.Linear(hidden_size, 1),
            )

        self.q1, self.q2 = q(), q()
        _init(self)

    def forward(self, state, action):
        sa = torch.cat([state, action], dim=1)
        return self.q1(sa), self.q2(sa)


class ReplayMemory:
    """Fixed-size ring buffer of transitions ``(s, a, r, s', done)``, sampled with numpy."""

    def __init__(self, capacity, state_dim):
        self.capacity = capacity
        self.state = np.zeros((capacity, state_dim), dtype=np.float32)
        self.next_state = np.zeros((capacity, state_dim), dtype=np.float32)
        self.action = np.zeros((capacity, 1), dtype=np.float32)
        self.reward = np.zeros((capacity, 1), dtype=np.float32)
        self.done = np.zeros((capacity, 1), dtype=np.float32)
        self.size = 0
        self._pos = 0

    def push(self, state, action, reward, next_state, done):
        i = self._pos
        self.state[i], self.action[i], self.reward[i] = state, action, reward
        self.next_state[i], self.done[i] = next_state, float(done)
        self._pos = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size, rng):
        idx = rng.randint(0, self.size, size=batch_size)
        return tuple(
            torch.from_numpy(a[idx])
            for a in (self.state, self.action, self.reward, self.next_state, self.done)
        )


class SAC:
    """Soft Actor-Critic v2: twin Q critics with a soft-updated target, fixed ``alpha``.

    The target is ``r + gamma * (1 - done) * (min Q'(s', a') - alpha log pi(a'|s'))``:
    no bootstrap past a terminal step. (The authors' code pushes ``done`` where
    the mask ``1 - done`` belongs, which bootstraps only on terminal steps.)
    """

    def __init__(
        self,
        state_dim,
        *,
        hidden_size=50,
        gamma=0.99,
        tau=0.01,
        alpha=0.1,
        lr=1e-3,
        lr_decay=(10, 0.99),
    ):
        self.gamma, self.tau, self.alpha = gamma, tau, alpha
        self.actor = Actor(state_dim, hidden_size)
        self.critic = TwinQ(state_dim, hidden_size)
        self.critic_target = TwinQ(state_dim, hidden_size)
        self.critic_target.load_state_dict(self.critic.state_dict())
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=lr)
        self.critic_opt = torch.optim.Adam(self.critic.parameters(), lr=lr)
        step, factor = lr_decay
        self.schedulers = [
            torch.optim.lr_scheduler.StepLR(opt, step_size=step, gamma=factor)
            for opt in (self.actor_opt, self.critic_opt)
        ]

    def update(self, batch):
        """One gradient step of the critics, the actor and the target critics."""
        state, action, reward, next_state, done = batch
        with torch.no_grad():
            next_action, next_log_prob = self.actor.sample(next_state)
            q1_t, q2_t = self.critic_target(next_state, next_action)
            soft_v = torch.min(q1_t, q2_t) - self.alpha * next_log_prob
            target = reward + self.gamma * (1.0 - done) * soft_v
        q1, q2 = self.critic(state, action)
        critic_loss = nn.functional.mse_loss(q1, target) + nn.functional.mse_loss(
            q2, target
        )
        self.critic_opt.zero_grad()
        critic_loss.backward()
        self.critic_opt.step()

        new_action, log_prob = self.actor.sample(state)
        q1_pi, q2_pi = self.critic(state, new_action)
        actor_loss = (self.alpha * log_prob - torch.min(q1_pi, q2_pi)).mean()
        self.actor_opt.zero_grad()
        actor_loss.backward()
        self.actor_opt.step()

        with torch.no_grad():
            for p_t, p in zip(
                self.critic_target.parameters(), self.critic.parameters()
            ):
                p_t.mul_(1 - self.tau).add_(self.tau * p)
        for scheduler in self.schedulers:
            scheduler.step()
        return critic_loss.item(), actor_loss.item()

    def actor_weights(self):
        """The actor as numpy arrays (``x @ W + b`` layout), the shipped format."""
        a = self.actor

        def w(layer):
            return layer.weight.detach().numpy().T.astype(np.float64)

        def b(layer):
            return layer.bias.detach().numpy().astype(np.float64)

        return {
            "W_hidden": w(a.hidden),
            "b_hidden": b(a.hidden),
            "W_mean": w(a.mean),
            "b_mean": b(a.mean),
            "W_log_std": w(a.log_std),
            "b_log_std": b(a.log_std),
        }
