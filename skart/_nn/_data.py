"""In-memory datasets and a loader that yields whole minibatches by tensor indexing.

skorch's default ``DataLoader`` calls ``Dataset.__getitem__`` once per row and
collates the rows again; for data that already sit in memory that per-row
Python costs more than a small network's step. Here a batch is one
``index_select`` on a tensor (or one row slice of a CSR matrix, densified per
batch only).
"""

import numbers

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils import check_random_state
from torch.utils.data import DataLoader, Dataset, Sampler

from .._validation import index_dtype


class ArrayDataset(Dataset):
    """Features and labels held in memory, indexable by batch.

    Parameters
    ----------
    X : torch.Tensor or scipy.sparse.csr_matrix of shape (n_samples, ...)
        Features. Dense tensors stay on their device; a CSR matrix stays on
        the CPU and each batch is densified on its own.
    y : torch.Tensor of shape (n_samples,) or None
        Labels (class indices), on the device of ``X`` if dense. Any integer
        dtype: a compact one (uint8 for up to 256 classes) saves memory, and
        batches come as int64, which losses expect.

    Examples
    --------
    >>> import torch
    >>> from skart import ArrayDataset
    >>> ds = ArrayDataset(torch.arange(12.0).reshape(6, 2), torch.tensor([0, 1, 0, 1, 0, 1]))
    >>> Xb, yb = ds.take(torch.tensor([4, 1]))
    >>> Xb.tolist(), yb.tolist()
    ([[8.0, 9.0], [2.0, 3.0]], [0, 1])
    """

    def __init__(self, X, y=None):
        self.X = X
        self.y = y

    def __len__(self):
        return self.X.shape[0]

    def take(self, idx):
        """Return the rows ``idx`` as one batch.

        Parameters
        ----------
        idx : torch.Tensor of int64 or slice
            Row positions (on the device of ``X`` if dense) or a slice, which
            returns views without copying.

        Returns
        -------
        Xb : torch.Tensor of shape (batch_size, ...)
            Features, dense and float32 even when ``X`` is sparse.
        yb : torch.Tensor of shape (batch_size,) or None
            Labels (int64 when ``y`` holds integers), or None when the
            dataset has none.
        """
        if sp.issparse(self.X):
            rows = idx if isinstance(idx, slice) else idx.cpu().numpy()
            Xb = torch.from_numpy(self.X[rows].toarray())
            Xb = Xb.to(
                self.y.device if self.y is not None else "cpu", non_blocking=True
            )
        elif isinstance(idx, slice):
            Xb = self.X[idx]  # a view, no copy
        else:
            Xb = self.X.index_select(0, idx)
        if self.y is None:
            return Xb, None
        yb = self.y[idx] if isinstance(idx, slice) else self.y.index_select(0, idx)
        if not (yb.is_floating_point() or yb.is_complex() or yb.dtype == torch.bool):
            yb = yb.long()  # no copy when already int64
        return Xb, yb

    def __getitem__(self, i):
        # Row access for the generic DataLoader path (user-chosen iterators).
        Xi, yi = self.take(slice(i, i + 1))
        return Xi[0], (yi[0] if yi is not None else torch.tensor(0))


class BatchIterator:
    """Iterate over an :class:`ArrayDataset` in minibatches, by tensor indexing.

    A drop-in for skorch's ``iterator_train`` / ``iterator_valid``: skorch
    calls it as ``BatchIterator(dataset, batch_size=..., **iterator_kwargs)``
    and loops over it once per epoch. A dataset other than
    :class:`ArrayDataset` is handed to a ``torch.utils.data.DataLoader``.

    Parameters
    ----------
    dataset : ArrayDataset
        The data; any other ``torch.utils.data.Dataset`` goes to a DataLoader.
    batch_size : int, default=128
        Rows per batch (the last batch may be smaller).
    shuffle : bool, default=False
        Draw a fresh permutation each epoch (ignored when ``sampler`` is set).
    sampler : ClassDistributionSampler, default=None
        Its :meth:`~ClassDistributionSampler.sample_indices` gives each
        epoch's rows, read when the epoch starts.
    drop_last : bool, default=False
        Drop the last, incomplete batch of each epoch.
    random_state : int, RandomState instance or None, default=None
        Seed of the permutations. For a DataLoader, an int also seeds its
        generator: its shuffling and the seeds of its workers (and so the
        random transforms they run) are then those of the seed.
    **loader_kwargs : dict
        Further arguments of the ``DataLoader`` that reads a dataset other
        than :class:`ArrayDataset` (``num_workers``, ``pin_memory``,
        ``collate_fn``, ``persistent_workers``...); ignored for an
        :class:`ArrayDataset`, whose batches are tensor slices.

    Examples
    --------
    >>> import torch
    >>> from skart import ArrayDataset, BatchIterator
    >>> ds = ArrayDataset(torch.zeros(10, 3), torch.arange(10))
    >>> [len(yb) for _, yb in BatchIterator(ds, batch_size=4, shuffle=True)]
    [4, 4, 2]
    """

    def __init__(
        self,
        dataset,
        batch_size=128,
        shuffle=False,
        sampler=None,
        drop_last=False,
        random_state=None,
        **loader_kwargs,
    ):
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.sampler = sampler
        self.drop_last = drop_last
        self._rng = check_random_state(random_state)
        if not isinstance(dataset, ArrayDataset):
            if isinstance(random_state, numbers.Integral):
                loader_kwargs.setdefault(
                    "generator", torch.Generator().manual_seed(int(random_state))
                )
            if shuffle and sampler is None:
                # The permutations of the tensor path, from the same seed: the
                # same batches whether the rows are an array or a Dataset.
                sampler = _Permutations(len(dataset), self._rng)
            self._loader = DataLoader(
                dataset,
                batch_size=batch_size,
                sampler=sampler,
                drop_last=drop_last,
                **loader_kwargs,
            )

    def _epoch_indices(self):
        if self.sampler is not None:
            return self.sampler.sample_indices()
        if self.shuffle:
            return _permutation(len(self.dataset), self._rng)
        return None

    def __iter__(self):
        if not isinstance(self.dataset, ArrayDataset):
            yield from _collated(self._loader)
            return
        idx = self._epoch_indices()
        n = len(self.dataset) if idx is None else len(idx)
        stop = n - n % self.batch_size if self.drop_last else n
        if idx is not None:
            # One host-to-device copy of the epoch's indices; batches are views.
            # int32 indices stay int32 (torch indexes with either): half the bytes.
            device = self.dataset.X.device if torch.is_tensor(self.dataset.X) else "cpu"
            if idx.dtype not in (np.int32, np.int64):
                idx = idx.astype(np.int64)
            idx = torch.from_numpy(np.ascontiguousarray(idx)).to(device)
        for start in range(0, stop, self.batch_size):
            end = min(start + self.batch_size, n)
            yield self.dataset.take(
                slice(start, end) if idx is None else idx[start:end]
            )

    def __len__(self):
        if not isinstance(self.dataset, ArrayDataset):
            return len(self._loader)
        n = len(self.dataset) if self.sampler is None else len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


def _permutation(n, rng):
    """``rng.permutation(n)``, in int32 where it fits: the same draws and values."""
    idx = np.arange(n, dtype=index_dtype(n))
    rng.shuffle(idx)
    return idx


class _Permutations(Sampler):
    """A fresh permutation of ``range(n)`` per pass, drawn from ``rng``."""

    def __init__(self, n, rng):
        self.n = n
        self.rng = rng

    def __iter__(self):
        return iter(_permutation(self.n, self.rng).tolist())

    def __len__(self):
        return self.n


def _collated(loader):
    """The loader's batches, with the default collate's errors made clear."""
    try:
        yield from loader
    except RuntimeError as exc:
        if "stack expects each tensor to be equal size" not in str(exc):
            raise
        raise ValueError(
            "The dataset's items have inputs of different shapes, which the "
            "default collate cannot stack into one batch. Make them one shape "
            "(a transform of the dataset that resizes or crops; "
            "train_transform only runs on training items), or give a "
            "collate_fn that can batch them (iterator_train__collate_fn and "
            f"iterator_valid__collate_fn). torch said: {exc}"
        ) from exc
    except TypeError as exc:
        if "default_collate" not in str(exc):
            raise
        raise TypeError(
            "The dataset's items cannot be collated into a batch: their inputs "
            "must be tensors, arrays or numbers. Give the dataset a transform "
            "that makes tensors (torchvision's ToImage and ToDtype, say). "
            f"torch said: {exc}"
        ) from exc
