"""A sampler that draws rows by class according to a distribution it reads at each epoch."""

import numbers

import numpy as np
from sklearn.utils import check_random_state
from torch.utils.data import Sampler

from .._validation import class_order, index_dtype

# Positions per step of an epoch's draws: their temporaries stay a few MB,
# whatever the size of the data.
_CHUNK = 1 << 16


class ClassDistributionSampler(Sampler):
    """Draw row indices by class distribution, then by weight within each class.

    Each pass (epoch) draws ``num_samples`` indices with replacement: how many
    rows each class gets is drawn from a multinomial with probabilities ``p``,
    the rows of a class are drawn among its rows, uniformly or in proportion
    to ``sample_weight``, and the result is shuffled. The distribution is read when a pass starts, so assigning a new
    one with :meth:`set_distribution` takes effect from the next epoch, even
    though skorch builds its data loader only once per ``fit``.

    For data-parallel training (``torch.distributed``) give ``num_replicas``
    and ``rank`` and call :meth:`set_epoch` at the start of every epoch, as
    with :class:`torch.utils.data.DistributedSampler`. Every rank then draws
    the same global pass of ``num_replicas * ceil(num_samples / num_replicas)``
    indices from a generator keyed by ``(random_state, epoch)`` and keeps the
    strided shard ``pass[rank::num_replicas]``: the shards have equal lengths
    and their union is exactly the pass that one process (``num_replicas=1``)
    draws for the same seed, epoch and ``p``. The keyed pass draws each index
    on its own (class from ``p``, then a row of it), so a longer pass starts
    with the shorter one. Calling :meth:`set_epoch` switches a sampler without
    ``num_replicas`` to the same keyed draws.

    It is a :class:`torch.utils.data.Sampler`, so it works as
    ``DataLoader(dataset, sampler=...)`` or skorch's
    ``iterator_train__sampler``; :meth:`sample_indices` returns a whole pass as
    one array for loaders that index tensors by batch.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class index of each row, integers in ``[0, n_classes)``.
    p : array-like of shape (n_classes,), default=None
        Initial class distribution. ``None`` means the empirical prior of ``y``
        (the same class mix as plain shuffling, but drawn with replacement),
        weighted by ``sample_weight`` if given.
    num_samples : int, default=None
        Indices per pass. ``None`` means ``len(y)``.
    n_classes : int, default=None
        Number of classes; ``None`` means ``max(y) + 1``.
    random_state : int, RandomState instance or None, default=None
        Seed of the draws.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative row weights: a row is drawn within its class with
        probability proportional to its weight (a row of weight 0 never), and
        the prior is the share of each class in the total weight. ``None``
        draws uniformly within each class.
    num_replicas : int, default=None
        Number of processes that share each pass (the world size); ``None``
        for one process drawing whole passes. Needs an int ``random_state``,
        the same on every rank, and ``rank``.
    rank : int, default=None
        This process's shard, in ``[0, num_replicas)``.

    Attributes
    ----------
    p : ndarray of shape (n_classes,)
        The class distribution in force.
    class_counts : ndarray of shape (n_classes,)
        Rows per class in ``y``.
    class_weights : ndarray of shape (n_classes,)
        Total weight per class (``class_counts`` without ``sample_weight``).
    epoch : int or None
        The epoch set by :meth:`set_epoch` (None before; then keyed draws use
        epoch 0 when ``num_replicas`` is set).

    Examples
    --------
    >>> import numpy as np
    >>> from skart import ClassDistributionSampler
    >>> y = np.array([0] * 90 + [1] * 10)
    >>> sampler = ClassDistributionSampler(y, p=[0.5, 0.5], random_state=0)
    >>> idx = sampler.sample_indices()
    >>> len(idx), round(float(np.mean(y[idx] == 1)), 1)
    (100, 0.5)
    """

    def __init__(
        self,
        y,
        p=None,
        *,
        num_samples=None,
        n_classes=None,
        random_state=None,
        sample_weight=None,
        num_replicas=None,
        rank=None,
    ):
        y = np.asarray(y)
        if y.ndim != 1 or y.size == 0 or not np.issubdtype(y.dtype, np.integer):
            raise ValueError(
                "y must be a non-empty 1-d array of integer class indices; got "
                f"shape {y.shape} and dtype {y.dtype}. Encode labels first, for "
                "example with sklearn.preprocessing.LabelEncoder."
            )
        if y.min() < 0:
            raise ValueError(f"Class indices must be >= 0; got {y.min()}.")
        n_classes = int(y.max()) + 1 if n_classes is None else int(n_classes)
        if not isinstance(num_samples, numbers.Integral | None) or (
            num_samples is not None and num_samples < 1
        ):
            raise ValueError(
                f"num_samples must be a positive int or None; got {num_samples!r}."
            )
        self.num_samples = len(y) if num_samples is None else int(num_samples)
        self.class_counts = np.bincount(y, minlength=n_classes)
        # Rows sorted by class: the rows of class k are order[starts[k]:starts[k+1]].
        self._order = class_order(y, self.class_counts, index_dtype(len(y)))
        self._starts = np.concatenate(([0], np.cumsum(self.class_counts)[:-1]))
        self._rng = check_random_state(random_state)
        self._check_sharding(num_replicas, rank, random_state)
        self.num_replicas = None if num_replicas is None else int(num_replicas)
        self.rank = None if rank is None else int(rank)
        self.epoch = None
        # The key of the epoch-keyed draws; drawn from ``random_state`` at the
        # first set_epoch when it is not an int.
        self._seed = (
            int(random_state) if isinstance(random_state, numbers.Integral) else None
        )
        self._cumulative = None  # cumulative weights in class order, if weighted
        self.class_weights = self.class_counts.astype(np.float64)
        if sample_weight is not None:
            w = np.asarray(sample_weight, dtype=np.float64)
            if w.shape != y.shape or not np.all(np.isfinite(w)) or np.any(w < 0):
                raise ValueError(
                    "sample_weight must be finite, non-negative and of the shape "
                    f"of y {y.shape}; got shape {w.shape}."
                )
            self.class_weights = np.bincount(y, weights=w, minlength=n_classes)
            if self.class_weights.sum() <= 0:
                raise ValueError("sample_weight must not be all zero.")
            self._cumulative = np.cumsum(w[self._order])
        self.set_distribution(
            self.class_weights / self.class_weights.sum() if p is None else p
        )

    @staticmethod
    def _check_sharding(num_replicas, rank, random_state):
        if num_replicas is None and rank is None:
            return
        if num_replicas is None or rank is None:
            raise ValueError(
                "Give both num_replicas and rank (the world size and this "
                "process's rank, e.g. torch.distributed.get_world_size() and "
                f"get_rank()), or neither; got num_replicas={num_replicas!r}, "
                f"rank={rank!r}."
            )
        if not isinstance(num_replicas, numbers.Integral) or num_replicas < 1:
            raise ValueError(
                f"num_replicas must be a positive int; got {num_replicas!r}."
            )
        if not isinstance(rank, numbers.Integral) or not 0 <= rank < num_replicas:
            raise ValueError(
                f"rank must be an int in [0, num_replicas={num_replicas}); got {rank!r}."
            )
        if not isinstance(random_state, numbers.Integral):
            raise ValueError(
                "A sharded sampler (num_replicas set) needs an int random_state, "
                "the same on every rank, so that the ranks draw shards of one "
                f"pass; got {random_state!r}."
            )

    @property
    def n_classes(self):
        """Number of classes."""
        return self.class_counts.size

    def set_distribution(self, p):
        """Set the class distribution used from the next pass on.

        Parameters
        ----------
        p : array-like of shape (n_classes,)
            Non-negative, normalised here. A class without rows must get 0.
        """
        p = np.asarray(p, dtype=np.float64)
        if p.shape != (self.n_classes,):
            raise ValueError(f"p must have shape ({self.n_classes},); got {p.shape}.")
        if not np.all(np.isfinite(p)) or np.any(p < 0) or p.sum() <= 0:
            raise ValueError(
                f"p must be finite, non-negative and not all zero; got {p}."
            )
        empty = (p > 0) & (self.class_weights <= 0)
        if empty.any():
            raise ValueError(
                f"p gives probability to classes {np.flatnonzero(empty).tolist()} "
                "which have no rows (or only rows of weight 0) to draw from."
            )
        self.p = p / p.sum()

    def set_epoch(self, epoch):
        """Key the following draws by ``(random_state, epoch)``.

        Call it at the start of every epoch with the same value on every
        rank (accelerate and Lightning call it on their samplers). Drawing
        the same epoch again gives the same indices.

        Parameters
        ----------
        epoch : int
            Non-negative epoch number.
        """
        if not isinstance(epoch, numbers.Integral) or epoch < 0:
            raise ValueError(f"epoch must be a non-negative int; got {epoch!r}.")
        if self._seed is None:
            self._seed = int(self._rng.randint(np.iinfo(np.int32).max))
        self.epoch = int(epoch)

    @property
    def _keyed(self):
        return self.num_replicas is not None or self.epoch is not None

    def _keyed_pass(self, n):
        # One generator per (seed, epoch); each index takes two uniforms in
        # turn (class, row within it), so the first n indices of any longer
        # pass are this pass.
        epoch = 0 if self.epoch is None else self.epoch
        rng = np.random.default_rng([self._seed, epoch])
        u = rng.random((n, 2))  # (n, 2)
        cum = np.cumsum(self.p)  # (K,)
        cls = np.searchsorted(cum, u[:, 0] * cum[-1], side="right")  # (n,)
        return self._rows(np.minimum(cls, self.n_classes - 1), u[:, 1])

    def _rows(self, cls, u):
        # Row positions of draws of classes ``cls`` given uniforms ``u``.
        if self._cumulative is None:
            pos = self._starts[cls] + (u * self.class_counts[cls]).astype(np.int64)
        else:
            # Inverse CDF of the class's weights: rows of weight 0 have an
            # empty interval and are never hit.
            before = np.concatenate(([0.0], self._cumulative))[self._starts]  # (K,)
            target = before[cls] + u * self.class_weights[cls]
            pos = np.searchsorted(self._cumulative, target, side="right")
            last = self._starts + self.class_counts - 1  # rounding stays in class
            pos = np.clip(pos, self._starts[cls], last[cls])
        return self._order[pos]

    def sample_indices(self):
        """Draw one pass of row indices (this rank's shard of it when sharded).

        Returns
        -------
        indices : ndarray of shape (len(self),)
            Row positions, int32 (int64 for more than ``2**31 - 1`` rows).
        """
        if self._keyed:
            world = self.num_replicas or 1
            rank = self.rank or 0
            return self._keyed_pass(world * len(self))[rank::world]
        rng = self._rng
        n = self.num_samples
        per_class = rng.multinomial(n, self.p)  # (K,)
        # Position j of the pass draws from class k where ends[k-1] <= j < ends[k].
        ends = np.cumsum(per_class)  # (K,)
        indices = np.empty(n, dtype=self._order.dtype)
        # Chunks of the pass, each with its share of the uniform draws: the same
        # numbers as one draw of n, without n-sized temporaries.
        for lo in range(0, n, _CHUNK):
            hi = min(lo + _CHUNK, n)
            in_chunk = np.clip(ends, lo, hi) - np.clip(ends - per_class, lo, hi)
            cls = np.repeat(np.arange(self.n_classes), in_chunk)  # (m,)
            u = rng.random_sample(hi - lo)  # (m,) in [0, 1)
            indices[lo:hi] = self._rows(cls, u)
        rng.shuffle(indices)
        return indices

    def __iter__(self):
        return iter(self.sample_indices().tolist())

    def __len__(self):
        if self.num_replicas is None:
            return self.num_samples
        return -(-self.num_samples // self.num_replicas)  # ceil: equal shards
