"""torch Datasets given to ``fit`` and ``predict``: their labels, folds and checks.

A map-style :class:`torch.utils.data.Dataset` is never read whole. Its labels
come from ``y`` or from its ``targets`` attribute (torchvision's convention),
without loading an input; the folds, the class sampler's draws, the sample
weights and the data-parallel shards are positions in it (:class:`DatasetFold`);
its items are loaded, and the training ones transformed, per batch by a
:class:`torch.utils.data.DataLoader` (:class:`~skart._nn._data.BatchIterator`).
"""

import numbers

import numpy as np
import torch
from torch.utils.data import Dataset, IterableDataset, Subset

from .._validation import encode_validation_labels

ARRAY_ADVICE = "pass the features as an array"


def is_dataset(X):
    """Whether ``X`` is a torch Dataset (given to fit or predict as such)."""
    return isinstance(X, Dataset | IterableDataset)


def check_dataset(dataset, name="X"):
    """Refuse what the dataset path cannot read; return the number of items."""
    if isinstance(dataset, IterableDataset):
        raise TypeError(
            f"{name} is an iterable-style torch Dataset "
            f"({type(dataset).__name__}); skart needs a map-style Dataset, with "
            "__len__ and __getitem__: the validation fold, the class sampler and "
            "the sample weights are positions in it. Wrap the data in a "
            "map-style Dataset, or pass arrays."
        )
    try:
        n = len(dataset)
    except TypeError:
        raise TypeError(
            f"{name} is a torch Dataset without __len__ ({type(dataset).__name__}); "
            "skart needs a map-style Dataset with __len__ and __getitem__."
        ) from None
    if n == 0:
        raise ValueError(f"{name} is an empty Dataset: it has no item.")
    return n


def is_pair(item):
    """Whether a dataset item is an ``(input, label)`` pair."""
    return isinstance(item, tuple | list) and len(item) == 2


def item_input(item, pairs):
    """The input of one item: the first member of a pair, the one member of a
    1-tuple (``TensorDataset(X)``'s items), or the item."""
    if pairs or (isinstance(item, tuple | list) and len(item) == 1):
        return item[0]
    return item


def _targets(dataset):
    """The ``targets`` of a dataset, through ``Subset``s; None if it has none."""
    if isinstance(dataset, Subset):
        parent = _targets(dataset.dataset)
        if parent is None:
            return None
        return np.asarray(parent)[np.asarray(dataset.indices)]
    targets = getattr(dataset, "targets", None)
    if targets is None:
        return None
    if torch.is_tensor(targets):
        targets = targets.cpu().numpy()
    return np.asarray(targets)


def dataset_labels(dataset, y, estimator_name):
    """The labels of a fit on ``dataset``, and whether its items are pairs.

    ``y`` holds one label per item, the items being inputs or ``(input,
    label)`` pairs whose labels are then ignored; without ``y`` the labels are
    the dataset's ``targets`` (its items are pairs), read without loading any
    input.

    Returns
    -------
    y : ndarray of shape (n_items,)
        The labels, not yet encoded.
    pairs : bool
        Whether the items are ``(input, label)`` pairs.
    first : object
        Item 0, the one item read (for :func:`input_shape`).
    """
    n = check_dataset(dataset)
    first = dataset[0]
    pairs = is_pair(first)
    if y is None:
        y = _targets(dataset)
        if y is None:
            raise ValueError(
                f"{estimator_name}.fit got a torch Dataset ({type(dataset).__name__}) "
                "and y=None, and the dataset has no `targets` attribute: there "
                "are no labels to read without loading every item. Pass "
                "y=<one label per item> to fit, or give the dataset a `targets` "
                "attribute (a list or array of the labels, as torchvision's "
                "datasets have) and items that are (input, label) pairs."
            )
        if not pairs:
            raise ValueError(
                f"{type(dataset).__name__} has `targets` but its items are not "
                f"(input, label) pairs (item 0 is a {type(first).__name__}). "
                "Pass y=<one label per item> to fit when the items are inputs."
            )
        source = "its `targets`"
    else:
        y = np.asarray(y)
        source = "y"
    if y.ndim != 1 or len(y) != n:
        shape = y.shape if y.ndim != 1 else len(y)
        raise ValueError(
            f"The dataset has {n} items but {source} has {shape} labels: give "
            "exactly one label per item."
        )
    return y, pairs, first


def input_shape(item, pairs, name="X"):
    """The shape of an item's input (untransformed): that of every input."""
    x = item_input(item, pairs)
    if isinstance(x, numbers.Number):
        return ()
    if not (torch.is_tensor(x) or isinstance(x, np.ndarray)):
        raise TypeError(
            f"The inputs of {name} must be tensors or arrays; item 0's is a "
            f"{type(x).__name__}. Give the dataset a transform that makes "
            "tensors (torchvision's ToImage and ToDtype, say): the validation "
            "fold and predict read the inputs without train_transform."
        )
    return tuple(x.shape)


class DatasetFold(Dataset):
    """Items of a dataset at some positions, as ``(input, class index)`` pairs.

    Parameters
    ----------
    dataset : torch.utils.data.Dataset
        The user's map-style dataset.
    indices : ndarray of int or None
        Positions of the fold's items in ``dataset``; None for all of them.
    y : ndarray of shape (n_fold,) or None
        The encoded labels of the fold's items (class indices); None at
        prediction, when every item's label is returned as 0.
    pairs : bool
        Whether the items are ``(input, label)`` pairs (their own labels are
        ignored: ``y`` holds the labels).
    transform : callable or None
        Applied to each input as it is read (``train_transform``, on the
        training fold only).
    """

    def __init__(self, dataset, indices=None, y=None, *, pairs, transform=None):
        self.dataset = dataset
        self.indices = indices
        self.labels = None if y is None else np.asarray(y, dtype=np.int64)
        self.pairs = pairs
        self.transform = transform

    def __len__(self):
        return len(self.dataset) if self.indices is None else len(self.indices)

    def __getitem__(self, i):
        j = i if self.indices is None else int(self.indices[i])
        x = item_input(self.dataset[j], self.pairs)
        if self.transform is not None:
            x = self.transform(x)
        return x, (0 if self.labels is None else int(self.labels[i]))

    @property
    def y(self):
        """The fold's class indices as a CPU tensor (None at prediction)."""
        return None if self.labels is None else torch.from_numpy(self.labels)

    def subset(self, rows):
        """The fold's items at positions ``rows`` of the fold (a DDP shard)."""
        rows = np.asarray(rows)
        indices = rows if self.indices is None else np.asarray(self.indices)[rows]
        labels = None if self.labels is None else self.labels[rows]
        return DatasetFold(
            self.dataset, indices, labels, pairs=self.pairs, transform=self.transform
        )


def dataset_folds(dataset, y_enc, X_val, y_val, fraction, rng, split, *, pairs, fit):
    """The training and validation folds of a fit on a torch Dataset.

    Like :func:`skart._validation.train_valid_folds`, with positions in place
    of rows; ``split`` is the stratified split of the array path, so the same
    labels and random state give the same folds. ``X_val`` is a Dataset (its
    labels read as those of ``X``) or None. ``fit`` gives ``(estimator,
    train_transform, sample_weight)``.

    Returns
    -------
    train_ds, valid_ds : DatasetFold
    y_tr, y_va : ndarray
        Encoded labels of the folds.
    w_tr, w_va : ndarray or None
        Sample weights of the folds (``w_va`` None for a validation set of the
        user's).
    """
    estimator, transform, sample_weight = fit
    if X_val is None and y_val is not None:
        raise ValueError("Pass both X_val and y_val, or neither.")
    if X_val is None:
        train_idx, valid_idx = split(y_enc, fraction, rng)
        y_tr, y_va = y_enc[train_idx], y_enc[valid_idx]
        valid = DatasetFold(dataset, valid_idx, y_va, pairs=pairs)
        w_tr = w_va = None
        if sample_weight is not None:
            w_tr, w_va = sample_weight[train_idx], sample_weight[valid_idx]
    else:
        if not is_dataset(X_val):
            raise TypeError(
                f"X is a torch Dataset but X_val is a {type(X_val).__name__}: "
                "give the validation set as a Dataset too."
            )
        labels, val_pairs, _ = dataset_labels(X_val, y_val, type(estimator).__name__)
        y_va = encode_validation_labels(
            estimator, labels, y_enc.dtype, name="The validation set"
        )
        valid = DatasetFold(X_val, None, y_va, pairs=val_pairs)
        train_idx, y_tr = None, y_enc
        w_tr, w_va = sample_weight, None
    train = DatasetFold(dataset, train_idx, y_tr, pairs=pairs, transform=transform)
    return train, valid, y_tr, y_va, w_tr, w_va


def fingerprint(dataset):
    """What a checkpoint or the ranks of a data-parallel fit compare of a
    dataset they cannot read whole: its type and length (the labels are
    compared as well, by the caller)."""
    return f"{type(dataset).__module__}.{type(dataset).__qualname__}[{len(dataset)}]"
