"""MetaSampler: the MESA policy ``mu ~ pi(mu | state)``; numpy inference, SAC meta-training."""

import json
import time
from importlib import resources
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_X_y as _sk_check_X_y

from .._params import HasMethods, Interval, fit_context
from .._validation import draw_seed, stratified_split
from ._cascade import STATE_VERSION, Cascade, average_precision

PRETRAINED_FILE = "meta_sampler_v1.npz"
ACTOR_KEYS = ("W_hidden", "b_hidden", "W_mean", "b_mean", "W_log_std", "b_log_std")


def policy_forward(weights, states):
    """Mean and log-std of the pre-squash Gaussian for each state, in numpy."""
    h = np.maximum(states @ weights["W_hidden"] + weights["b_hidden"], 0.0)
    mean = (h @ weights["W_mean"] + weights["b_mean"])[:, 0]
    log_std = np.clip(h @ weights["W_log_std"] + weights["b_log_std"], -20, 2)[:, 0]
    return mean, log_std


def _xavier(rng, n_in, n_out):
    bound = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-bound, bound, size=(n_in, n_out))


def _check_weights(weights, n_bins, sigma, where):
    """Raise if ``weights`` were trained for another state size, sigma or state version."""
    missing = [k for k in ACTOR_KEYS if k not in weights]
    if missing:
        raise ValueError(
            f"The meta-sampler weights from {where} lack the arrays {missing}; pass "
            "weights made by MetaSampler.fit (weights_) or MetaSampler.load."
        )
    state_size = np.shape(weights["W_hidden"])[0]
    if state_size != 2 * n_bins:
        raise ValueError(
            f"The meta-sampler weights from {where} take a state of size {state_size} "
            f"but n_bins={n_bins} makes states of size {2 * n_bins}; set "
            f"n_bins={state_size // 2} or meta-train a new sampler."
        )
    if "sigma" in weights and not np.isclose(float(weights["sigma"]), sigma):
        raise ValueError(
            f"The meta-sampler weights from {where} were trained with "
            f"sigma={float(weights['sigma'])} but sigma={sigma} was given; the "
            f"policy's actions only mean something for that sigma. Set "
            f"sigma={float(weights['sigma'])} or meta-train a new sampler."
        )
    if "state_version" in weights and int(weights["state_version"]) != STATE_VERSION:
        raise ValueError(
            f"The meta-sampler weights from {where} use state version "
            f"{int(weights['state_version'])}; this skart computes version "
            f"{STATE_VERSION}. Meta-train a new sampler."
        )


class MetaSampler(BaseEstimator):
    """The MESA meta-sampler: a policy mapping the error state to the sampling center ``mu``.

    The state is the histogram of the current ensemble's errors
    ``1 - p(true class)`` on the training and on the validation fold
    (``n_bins`` bins each over [0, 1]); the action ``mu`` in [0, 1] centres the
    Gaussian weights ``g(error; mu, sigma)`` with which the next member's
    training rows are drawn. The policy is a small network
    ``{2 n_bins, hidden_size, 1}`` with a Gaussian head squashed by
    ``0.5 tanh(.) + 0.5``. Inference is numpy; :meth:`fit` meta-trains it with
    Soft Actor-Critic (torch), the reward being the gain in the validation
    metric after each new member.

    Parameters
    ----------
    weights : dict of str to ndarray or None, default=None
        Trained actor weights (``weights_`` of a fitted sampler, or what
        :meth:`load` reads). A sampler with weights is ready to use, and
        ``clone`` / ``GridSearchCV`` keep them since they are a parameter.
        ``None`` means untrained: :meth:`fit` meta-trains it.
    estimator : classifier with predict_proba or None, default=None
        Member of the cascades built during meta-training. ``None`` means
        ``DecisionTreeClassifier()``, a cheap proxy even when the final
        ensemble uses slower members.
    n_bins : int, default=5
        Bins of each error histogram; the state has ``2 * n_bins`` entries.
    sigma : float > 0, default=0.2
        Width of the Gaussian weights. A policy is only meaningful with the
        sigma it was trained for.
    sampling_ratio : float > 0, default=1.0
        Rows drawn per class during meta-training, as a multiple of the
        smallest class's count.
    episode_length : int >= 2, default=10
        Members per meta-training cascade (``episode_length - 1`` decisions).
    n_steps : int, default=1500
        Environment steps (decisions) of meta-training in all.
    start_steps : int, default=500
        First steps taken with uniformly random actions, before SAC updates.
    batch_size : int, default=64
        SAC minibatch.
    replay_size : int, default=1000
        Capacity of the replay memory.
    hidden_size : int, default=50
        Hidden units of the actor and of each critic layer.
    gamma : float in [0, 1], default=0.99
        Discount; ``0`` makes every decision a one-step bandit.
    tau : float in (0, 1], default=0.01
        Soft update rate of the target critics.
    alpha : float >= 0, default=0.1
        Entropy temperature (fixed).
    lr : float > 0, default=1e-3
        Adam learning rate of actor and critics (times 0.99 every 10 updates).
    reward_scale : float > 0, default=100.0
        Factor on the reward (the authors' code uses 100).
    validation_fraction : float in (0, 1), default=0.25
        Share of each class of a task held out to compute states and rewards
        when no validation set is given.
    random_state : int, RandomState instance or None, default=None
        Seeds the splits, the cascades, the exploration and torch.
    verbose : int, default=0
        Log the validation score of every episode when > 0.

    Attributes
    ----------
    weights_ : dict of str to ndarray
        The actor weights, for :meth:`act` (the ``weights`` parameter, or
        the meta-trained ones).
    episode_scores_ : ndarray of shape (n_episodes,)
        Final validation score of each meta-training cascade.
    fit_time_ : float
        Seconds spent meta-training.

    See Also
    --------
    MESAClassifier : The ensemble that the meta-sampler drives.

    References
    ----------
    Z. Liu, P. Wei, J. Jiang, W. Cao, J. Bian, Y. Chang. "MESA: Boost Ensemble
    Imbalanced Learning with MEta-SAmpler", NeurIPS 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from skart.ensemble import MetaSampler
    >>> sampler = MetaSampler.pretrained()
    >>> state = np.full(10, 1.0)
    >>> mu = sampler.act(state[None, :], deterministic=True)
    >>> bool(0.0 < mu[0] < 1.0)
    True
    """

    _parameter_constraints: dict = {
        "weights": [None, dict],
        "estimator": [None, HasMethods(["fit", "predict_proba"])],
        "n_bins": [Interval(Integral, 1, None, closed="left")],
        "sigma": [Interval(Real, 0, None, closed="neither")],
        "sampling_ratio": [Interval(Real, 0, None, closed="neither")],
        "episode_length": [Interval(Integral, 2, None, closed="left")],
        "n_steps": [Interval(Integral, 1, None, closed="left")],
        "start_steps": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "replay_size": [Interval(Integral, 1, None, closed="left")],
        "hidden_size": [Interval(Integral, 1, None, closed="left")],
        "gamma": [Interval(Real, 0, 1, closed="both")],
        "tau": [Interval(Real, 0, 1, closed="right")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "reward_scale": [Interval(Real, 0, None, closed="neither")],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        weights=None,
        *,
        estimator=None,
        n_bins=5,
        sigma=0.2,
        sampling_ratio=1.0,
        episode_length=10,
        n_steps=1500,
        start_steps=500,
        batch_size=64,
        replay_size=1000,
        hidden_size=50,
        gamma=0.99,
        tau=0.01,
        alpha=0.1,
        lr=1e-3,
        reward_scale=100.0,
        validation_fraction=0.25,
        random_state=None,
        verbose=0,
    ):
        self.weights = weights
        self.estimator = estimator
        self.n_bins = n_bins
        self.sigma = sigma
        self.sampling_ratio = sampling_ratio
        self.episode_length = episode_length
        self.n_steps = n_steps
        self.start_steps = start_steps
        self.batch_size = batch_size
        self.replay_size = replay_size
        self.hidden_size = hidden_size
        self.gamma = gamma
        self.tau = tau
        self.alpha = alpha
        self.lr = lr
        self.reward_scale = reward_scale
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.verbose = verbose

    # -- construction ------------------------------------------------------

    @classmethod
    def load(cls, path, **params):
        """Read actor weights saved by :meth:`save` (``allow_pickle=False``).

        Parameters
        ----------
        path : str or path-like or file-like
            The ``.npz`` file.
        **params : dict
            Other constructor parameters; ``n_bins`` and ``sigma`` default to
            the file's.

        Returns
        -------
        sampler : MetaSampler
            A sampler holding the weights, ready for :meth:`act`.
        """
        with np.load(path, allow_pickle=False) as f:
            weights = {k: f[k] for k in f.files}
        params.setdefault("n_bins", int(weights["W_hidden"].shape[0] // 2))
        if "sigma" in weights:
            params.setdefault("sigma", float(weights["sigma"]))
        sampler = cls(weights=weights, **params)
        _check_weights(weights, sampler.n_bins, sampler.sigma, str(path))
        return sampler

    @classmethod
    def pretrained(cls, **params):
        """The meta-sampler shipped with skart (``meta_sampler_v1.npz``).

        It was meta-trained on synthetic tasks with decision-tree members by
        ``benchmarks/mesa/pretrain_meta_sampler.py``.

        Parameters
        ----------
        **params : dict
            Other constructor parameters (see :meth:`load`).

        Returns
        -------
        sampler : MetaSampler
            A sampler holding the shipped weights.
        """
        ref = resources.files("skart.ensemble").joinpath("_data", PRETRAINED_FILE)
        with resources.as_file(ref) as path:
            return cls.load(path, **params)

    def save(self, path, **metadata):
        """Write the fitted actor weights and metadata to an ``.npz`` file (no pickle).

        Parameters
        ----------
        path : str or path-like
            Destination.
        **metadata : dict
            Extra entries stored as strings (e.g. ``train_config=...``).

        Returns
        -------
        self : MetaSampler
            The sampler.
        """
        weights = self._ready_weights()
        arrays = {k: np.asarray(weights[k], dtype=np.float32) for k in ACTOR_KEYS}
        arrays.update(
            n_bins=np.int64(self.n_bins),
            sigma=np.float64(self.sigma),
            state_version=np.int64(STATE_VERSION),
            action_map=np.str_("0.5*tanh(u)+0.5"),
        )
        arrays.update({k: np.str_(v) for k, v in metadata.items()})
        np.savez(path, **arrays)
        return self

    @staticmethod
    def random_weights(n_bins=5, hidden_size=50, random_state=None):
        """Weights of an untrained policy (Xavier-uniform, zero biases).

        Parameters
        ----------
        n_bins : int, default=5
            Bins per histogram; the state has ``2 * n_bins`` entries.
        hidden_size : int, default=50
            Hidden units.
        random_state : int, RandomState instance or None, default=None
            Seed of the draw.

        Returns
        -------
        weights : dict of str to ndarray
            Actor weights for the ``weights`` parameter.
        """
        rng = check_random_state(random_state)
        d = 2 * n_bins
        return {
            "W_hidden": _xavier(rng, d, hidden_size),
            "b_hidden": np.zeros(hidden_size),
            "W_mean": _xavier(rng, hidden_size, 1),
            "b_mean": np.zeros(1),
            "W_log_std": _xavier(rng, hidden_size, 1),
            "b_log_std": np.zeros(1),
        }

    # -- inference ----------------------------------------------------------

    def _ready_weights(self):
        if hasattr(self, "weights_"):
            return self.weights_
        if self.weights is not None:
            _check_weights(
                self.weights, self.n_bins, self.sigma, "the weights parameter"
            )
            return self.weights
        raise ValueError(
            "This MetaSampler has no weights: call fit, or pass weights= "
            "(e.g. MetaSampler.pretrained())."
        )

    def is_trained(self):
        """Whether the sampler can act (it has weights or was fitted).

        Returns
        -------
        trained : bool
            True when :meth:`act` can be called.
        """
        return hasattr(self, "weights_") or self.weights is not None

    def act(self, states, *, deterministic=False, random_state=None):
        """Sampling centres ``mu`` in [0, 1] for a batch of states.

        Parameters
        ----------
        states : array-like of shape (n_states, 2 * n_bins)
            Meta-states (training and validation error histograms).
        deterministic : bool, default=False
            Return ``0.5 tanh(mean) + 0.5`` instead of a draw from the policy.
        random_state : int, RandomState instance or None, default=None
            Source of the policy's noise when not deterministic.

        Returns
        -------
        mu : ndarray of shape (n_states,)
            The actions.
        """
        weights = self._ready_weights()
        states = np.atleast_2d(np.asarray(states, dtype=np.float64))
        mean, log_std = policy_forward(weights, states)
        if deterministic:
            u = mean
        else:
            eps = check_random_state(random_state).standard_normal(len(mean))
            u = mean + np.exp(log_std) * eps
        return 0.5 * np.tanh(u) + 0.5

    # -- meta-training -------------------------------------------------------

    def _tasks(self, X, y, X_val, y_val, tasks, rng):
        """Encoded (X_tr, y_tr, X_va, y_va) folds of every task."""
        if tasks is None:
            if X is None or y is None:
                raise ValueError("Pass X and y, or tasks=[(X, y), ...], to fit.")
            tasks = [(X, y) if X_val is None else (X, y, X_val, y_val)]
        elif X is not None:
            raise ValueError("Pass either X and y or tasks, not both.")
        folds = []
        for task in tasks:
            if len(task) not in (2, 4):
                raise ValueError(
                    f"Each task must be (X, y) or (X, y, X_val, y_val); got a "
                    f"tuple of {len(task)}."
                )
            Xt, yt = _sk_check_X_y(task[0], task[1], dtype=np.float64)
            check_classification_targets(yt)
            classes, yt = np.unique(yt, return_inverse=True)
            if len(task) == 4:
                Xv, yv = _sk_check_X_y(task[2], task[3], dtype=np.float64)
                yv = np.searchsorted(classes, yv)
            else:
                tr, va = stratified_split(yt, self.validation_fraction, rng)
                Xt, yt, Xv, yv = Xt[tr], yt[tr], Xt[va], yt[va]
            absent = np.setdiff1d(np.arange(len(classes)), yv)
            if absent.size:
                raise ValueError(
                    f"The validation fold of a meta-training task has no rows of "
                    f"classes {classes[absent].tolist()}; give every class at "
                    "least 2 rows or pass X_val/y_val holding every class."
                )
            folds.append((Xt, yt, Xv, yv, len(classes)))
        return folds

    @fit_context(prefer_skip_nested_validation=False)
    def fit(self, X=None, y=None, *, X_val=None, y_val=None, tasks=None):
        """Meta-train the policy with Soft Actor-Critic on one or several tasks.

        Each episode grows a cascade of ``episode_length`` members on one task
        (tasks are taken in turn) and records a transition per member:
        state, action ``mu``, reward (the gain in validation AUC-PR, times
        ``reward_scale``), next state. Transitions of all tasks share one
        replay memory.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or None, default=None
            Features of a single task.
        y : array-like of shape (n_samples,) or None, default=None
            Labels of a single task.
        X_val : array-like or None, default=None
            Validation features; otherwise ``validation_fraction`` of each
            class is held out.
        y_val : array-like or None, default=None
            Validation labels.
        tasks : list of tuples or None, default=None
            Several tasks, each ``(X, y)`` or ``(X, y, X_val, y_val)``,
            instead of ``X, y``.

        Returns
        -------
        self : MetaSampler
            The fitted sampler.
        """
        import torch

        from ._sac import SAC, ReplayMemory

        start = time.perf_counter()
        rng = check_random_state(self.random_state)
        folds = self._tasks(X, y, X_val, y_val, tasks, rng)
        estimator = (
            DecisionTreeClassifier() if self.estimator is None else self.estimator
        )
        state_dim = 2 * self.n_bins
        memory = ReplayMemory(self.replay_size, state_dim)
        scores = []
        threads = torch.get_num_threads()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(draw_seed(rng))
            torch.set_num_threads(1)  # tiny networks: threads only add overhead
            try:
                sac = SAC(
                    state_dim,
                    hidden_size=self.hidden_size,
                    gamma=self.gamma,
                    tau=self.tau,
                    alpha=self.alpha,
                    lr=self.lr,
                )
                if self.weights is not None:
                    _check_weights(
                        self.weights, self.n_bins, self.sigma, "the weights parameter"
                    )
                    self._load_actor(sac, self.weights)
                env, episode = None, 0
                for step in range(self.n_steps):
                    if env is None:
                        env = self._new_cascade(
                            folds[episode % len(folds)], estimator, rng
                        )
                        env.step()  # the first member: a uniform subset
                        state = env.state()
                    if step < self.start_steps:
                        mu = rng.uniform()
                    else:
                        with torch.no_grad():
                            mean, log_std = sac.actor(
                                torch.as_tensor(state, dtype=torch.float32)[None]
                            )
                        u = float(mean) + float(log_std.exp()) * rng.standard_normal()
                        mu = 0.5 * np.tanh(u) + 0.5
                    reward = env.step(mu)
                    next_state = env.state()
                    done = len(env.members) >= self.episode_length
                    memory.push(state, mu, reward * self.reward_scale, next_state, done)
                    state = next_state
                    if step >= self.start_steps and memory.size >= self.batch_size:
                        sac.update(memory.sample(self.batch_size, rng))
                    if done:
                        scores.append(env.scores[-1])
                        if self.verbose:
                            print(  # noqa: T201 (verbose output)
                                f"episode {episode}: validation score {scores[-1]:.4f}"
                            )
                        env, episode = None, episode + 1
            finally:
                torch.set_num_threads(threads)
        self.weights_ = sac.actor_weights()
        self.weights_.update(
            sigma=np.float64(self.sigma), state_version=np.int64(STATE_VERSION)
        )
        self.episode_scores_ = np.asarray(scores)
        self.fit_time_ = time.perf_counter() - start
        return self

    def _new_cascade(self, fold, estimator, rng):
        Xt, yt, Xv, yv, n_classes = fold
        counts = np.bincount(yt, minlength=n_classes)
        target = max(1, int(round(self.sampling_ratio * counts.min())))
        minority = int(np.argmin(counts))
        return Cascade(
            estimator,
            Xt,
            yt,
            Xv,
            yv,
            n_classes=n_classes,
            n_bins=self.n_bins,
            sigma=self.sigma,
            target=target,
            scorer=lambda y, p: average_precision(y, p, minority),
            rng=rng,
        )

    @staticmethod
    def _load_actor(sac, weights):
        import torch

        a = sac.actor
        with torch.no_grad():
            for layer, name in (
                (a.hidden, "hidden"),
                (a.mean, "mean"),
                (a.log_std, "log_std"),
            ):
                layer.weight.copy_(torch.as_tensor(np.asarray(weights[f"W_{name}"]).T))
                layer.bias.copy_(torch.as_tensor(np.asarray(weights[f"b_{name}"])))

    def train_config(self):
        """The meta-training parameters as a JSON string (stored in saved files).

        Returns
        -------
        config : str
            JSON of the parameters other than ``weights`` and ``estimator``.
        """
        params = self.get_params(deep=False)
        params.pop("weights")
        params["estimator"] = repr(params["estimator"])
        rs = params["random_state"]
        params["random_state"] = rs if rs is None or isinstance(rs, int) else repr(rs)
        return json.dumps(params, sort_keys=True)
