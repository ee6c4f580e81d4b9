"""The state one ``fit`` hands to a method's hooks."""

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ._sampler import ClassDistributionSampler


@dataclass(eq=False)
class FitState:
    """What one ``fit`` hands to a method's hooks.

    The core builds it once per ``fit``, after the input checks and the split,
    and hands the same object to every hook. When
    :func:`skart.load_fitted` rebuilds a net there are no data:
    :meth:`for_loading` gives a state whose data fields are None
    (``has_data`` is False); only ``class_counts`` and ``n_features`` are set.

    Attributes
    ----------
    class_counts : ndarray of shape (n_classes,)
        Rows per class in the training fold.
    n_features : int
        Features per row (the product of the trailing dimensions).
    X_train, X_valid : ndarray, sparse matrix or None
        The folds' features as validated, float32; None in a fit on a torch
        Dataset, which is never read whole (``train_ds`` and ``valid_ds``
        index it).
    y_train : ndarray or None
        Training labels as class indices, in the smallest integer dtype that
        holds them (uint8 up to 256 classes).
    y_valid : ndarray of int64 or None
        Validation labels as class indices.
    w_train, w_valid : ndarray or None
        Sample weights of the folds (None when unweighted; ``w_valid`` is None
        for a validation set given by the user).
    valid_weights : torch.Tensor or None
        ``w_valid`` on the training device.
    train_ds, valid_ds : ArrayDataset, DatasetFold or None
        The folds as tensors on the training device (sharing memory with the
        arrays on the CPU); their batches' labels are int64. In a fit on a
        torch Dataset, or with ``train_transform``, a
        :class:`~skart._nn._torch_datasets.DatasetFold` of positions, read
        item by item by a ``DataLoader``.
    seed : int
        The fit's seed for torch and the samplers.
    generators : FitGenerators or None
        The fit's own torch generators, seeded from ``seed``: ``cpu`` (initial
        weights, host-side draws) and ``device`` (draws on the training
        device). A method's random draws come from them, never from torch's
        global generator, which threads share.
    rng : numpy.random.RandomState or None
        The fit's random state, after the split and the seed were drawn.
    sampler : ClassDistributionSampler or None
        The class sampler of the training fold (ART's, or the weighted draws
        of a weighted fit); None for plain shuffling.
    ddp : DistributedFit or None
        The data-parallel side of a ``distributed=True`` fit; it shards the
        sampler and the validation fold (``valid_ds``, ``valid_weights``).
    warm : dict or None
        On a warm start, the fitted attributes of the fit being continued
        (name to value, taken before this fit changed any): how a method
        carries its own state (EGA's points, ART's distribution) into the
        next fit. None otherwise.
    checkpoint : FitCheckpoint or None
        The fit's checkpoint under ``checkpoint=DIR``
        (:mod:`skart._nn._checkpoint`), None otherwise.
    """

    class_counts: np.ndarray
    n_features: int
    X_train: Any = None
    y_train: np.ndarray | None = None
    X_valid: Any = None
    y_valid: np.ndarray | None = None
    w_train: np.ndarray | None = None
    w_valid: np.ndarray | None = None
    valid_weights: torch.Tensor | None = None
    train_ds: Any = None
    valid_ds: Any = None
    seed: int = 0
    generators: Any = None
    rng: np.random.RandomState | None = None
    sampler: Any = None
    ddp: Any = None
    warm: dict | None = None
    checkpoint: Any = None

    def class_sampler(self, seed=None):
        """A class sampler of the training fold, sharded under ``distributed=True``.

        Parameters
        ----------
        seed : int, default=None
            Its random state; None takes the fit's ``seed``.

        Returns
        -------
        sampler : ClassDistributionSampler
            Drawing by the class prior (by weight in a weighted fit) until its
            distribution is set.
        """
        shard = {}
        if self.ddp is not None:
            shard = {"num_replicas": self.ddp.world_size, "rank": self.ddp.rank}
        return ClassDistributionSampler(
            self.y_train,
            n_classes=len(self.class_counts),
            random_state=self.seed if seed is None else seed,
            sample_weight=self.w_train,
            **shard,
        )

    @classmethod
    def for_loading(cls, class_counts, n_features):
        """A state without data, to rebuild a fitted net from a file."""
        return cls(class_counts=class_counts, n_features=n_features)

    @property
    def has_data(self):
        """Whether the state holds training data (False when loading)."""
        return self.y_train is not None
