"""Fit and predict on map-style torch Datasets (skart._nn._torch_datasets).

The labels come from ``y`` or the dataset's ``targets``; the folds, the class
sampler and the sample weights are positions in the dataset; ``train_transform``
runs on training items only. The same data as an array or as a Dataset give
the same model.
"""

import numpy as np
import pytest
import torch
from torch.utils.data import Dataset, IterableDataset, Subset, TensorDataset

from skart import ARTClassifier, DecoupledClassifier, EGAClassifier, load_fitted
from skart._nn._torch_datasets import dataset_labels


def _data(n=300, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 4)).astype(np.float32)
    y = (X[:, 0] + 0.3 * rng.normal(size=n) > 0.7).astype(np.int64)
    return X, y


class Tagged(Dataset):
    """(input, label) items with a ``targets`` attribute; it counts its reads.

    Each input's last feature is its position, so a transform can tell which
    items it saw.
    """

    def __init__(self, X, labels, pairs=True):
        self.X = torch.from_numpy(np.c_[X, np.arange(len(X))].astype(np.float32))
        self.targets = list(labels)
        self.pairs = pairs
        self.reads = []

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        self.reads.append(i)
        return (self.X[i], self.targets[i]) if self.pairs else self.X[i]


class Recorder:
    """A train_transform that notes the positions of the items it transforms."""

    def __init__(self):
        self.seen = []

    def __call__(self, x):
        self.seen.append(int(x[-1]))
        return x


def test_dataset_gives_the_model_of_the_array(network_estimator):
    # Labels from y, items (input, label) pairs: the folds, the sampler's draws
    # and the permutations are those of the array path, so the model is too.
    X, y = _data()
    ds = TensorDataset(torch.from_numpy(X), torch.from_numpy(y))
    from_array = network_estimator().fit(X, y)
    from_dataset = network_estimator().fit(ds, y)
    assert np.array_equal(from_array.classes_, from_dataset.classes_)
    np.testing.assert_array_equal(
        from_array.predict_proba(X), from_dataset.predict_proba(ds)
    )
    np.testing.assert_array_equal(from_dataset.predict(ds), from_dataset.predict(X))


def test_labels_from_targets_without_loading_inputs():
    X, y = _data()
    labels = np.where(y == 1, "fraud", "ok")
    ds = Tagged(X, labels)
    est = ARTClassifier(max_epochs=1, random_state=0)

    read, pairs, _ = dataset_labels(ds, None, "ARTClassifier")
    assert pairs and ds.reads == [0]  # one item to tell pairs from inputs
    np.testing.assert_array_equal(read, labels)
    est.fit(ds, None)
    assert est.classes_.tolist() == ["fraud", "ok"]
    assert set(est.predict(ds)) <= {"fraud", "ok"}


def test_labels_through_subset_and_inputs_with_y():
    X, y = _data()
    ds = Tagged(X, y)
    part = Subset(ds, np.arange(0, 300, 2))
    est = ARTClassifier(max_epochs=2, random_state=0).fit(part, None)
    assert len(est.predict(part)) == 150
    inputs = Tagged(X, y, pairs=False)  # items are inputs: labels from y
    est = ARTClassifier(max_epochs=2, random_state=0).fit(inputs, y)
    assert est.predict_proba(inputs).shape == (300, 2)
    assert est.n_features_in_ == 5


def test_transform_sees_training_items_only_and_weights_are_positions():
    X, y = _data()
    ds = Tagged(X, y)
    w = np.ones(len(y))
    w[::3] = 0.0  # never drawn for training
    record = Recorder()
    est = ARTClassifier(max_epochs=3, random_state=0, train_transform=record)
    est.fit(ds, None, sample_weight=w)
    seen = set(record.seen)
    assert seen, "the transform never ran"
    assert not seen & set(range(0, 300, 3)), "a row of weight 0 was trained on"
    # The validation fold (scored every epoch) and predict never transform.
    n_seen = len(record.seen)
    est.predict(ds)
    assert len(record.seen) == n_seen
    validation = set(range(300)) - seen - set(range(0, 300, 3))
    assert validation, "no validation item"


def test_augmentation_is_reproducible_with_and_without_workers():
    X, y = _data(200)
    ds = TensorDataset(torch.from_numpy(X), torch.from_numpy(y))

    def jitter(x):
        return x + 0.1 * torch.randn_like(x)

    for workers in (0, 2):
        a, b = (
            ARTClassifier(
                max_epochs=2,
                random_state=0,
                train_transform=jitter,
                iterator_train__num_workers=workers,
            ).fit(ds, y)
            for _ in range(2)
        )
        np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    plain = ARTClassifier(max_epochs=2, random_state=0).fit(ds, y)
    assert not np.array_equal(plain.predict_proba(X), a.predict_proba(X))


def test_train_transform_on_an_array():
    X, y = _data()
    calls = Recorder()
    est = ARTClassifier(max_epochs=2, random_state=0, train_transform=calls)
    est.fit(np.c_[X, np.arange(len(X))], y)
    assert len(calls.seen) > 0
    assert est.predict(np.c_[X, np.arange(len(X))]).shape == (300,)


class SmallCNN(torch.nn.Module):
    def __init__(self, n_classes=2):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 4, 3, padding=1)
        self.head = torch.nn.Linear(4 * 8 * 8, n_classes)

    def forward(self, x):
        return self.head(torch.relu(self.conv(x)).flatten(1))


def test_images_with_a_cnn_and_a_shift():
    from sklearn.datasets import load_digits

    digits = load_digits()
    keep = np.isin(digits.target, [0, 1, 2])
    images = torch.from_numpy(digits.images[keep, None].astype(np.float32) / 16)
    labels = torch.from_numpy(digits.target[keep])
    ds = TensorDataset(images, labels)

    def shift(x):
        return torch.roll(x, shifts=int(torch.randint(-1, 2, ())), dims=2)

    for est in (
        ARTClassifier(module=SmallCNN, module__n_classes=3, train_transform=shift),
        DecoupledClassifier(module=SmallCNN, module__n_classes=3, crt_epochs=2),
    ):
        est.set_params(max_epochs=10, lr=1e-2, random_state=0)
        est.fit(ds, labels.numpy())
        assert est.n_features_in_ == 1
        accuracy = (est.predict(ds) == labels.numpy()).mean()
        assert accuracy > 0.75, (type(est).__name__, accuracy)  # chance: 1/3


def test_saved_model_of_a_dataset_fit_loads_and_predicts(tmp_path):
    X, y = _data()
    ds = TensorDataset(torch.from_numpy(X), torch.from_numpy(y))
    est = ARTClassifier(
        max_epochs=2, random_state=0, train_transform=lambda x: x * 1.0
    ).fit(ds, y)
    est.save_fitted(tmp_path / "m.skart")
    loaded = load_fitted(tmp_path / "m.skart")
    assert loaded.train_transform is None  # training only, not saved
    np.testing.assert_array_equal(loaded.predict_proba(ds), est.predict_proba(ds))


def test_checkpointed_dataset_fit_resumes_to_the_same_model(tmp_path):
    X, y = _data()
    ds = TensorDataset(torch.from_numpy(X), torch.from_numpy(y))
    whole = ARTClassifier(max_epochs=4, random_state=0).fit(ds, y)
    ARTClassifier(max_epochs=2, random_state=0, checkpoint=tmp_path).fit(ds, y)
    resumed = ARTClassifier(max_epochs=4, random_state=0, checkpoint=tmp_path)
    resumed.fit(ds, y)
    np.testing.assert_array_equal(whole.predict_proba(X), resumed.predict_proba(X))


def test_validation_dataset_of_the_users():
    X, y = _data()
    ds = TensorDataset(torch.from_numpy(X[:200]), torch.from_numpy(y[:200]))
    val = TensorDataset(torch.from_numpy(X[200:]))
    est = ARTClassifier(max_epochs=2, random_state=0)
    est.fit(ds, y[:200], X_val=val, y_val=y[200:])
    assert len(est.history_) == 2
    with pytest.raises(ValueError, match="Pass both X_val and y_val"):
        est.fit(ds, y[:200], y_val=y[200:])


# -- bad input ---------------------------------------------------------------------


class Stream(IterableDataset):
    def __iter__(self):
        yield from ((torch.zeros(2), 0) for _ in range(4))


class Ragged(Dataset):
    def __len__(self):
        return 20

    def __getitem__(self, i):
        return torch.zeros(3 + i % 2), i % 2


def test_bad_datasets_raise_clear_errors():
    X, y = _data()
    inputs = TensorDataset(torch.from_numpy(X))  # no labels at all
    with pytest.raises(ValueError, match="no `targets` attribute.*Pass y="):
        ARTClassifier().fit(inputs, None)
    with pytest.raises(ValueError, match="has 300 items but y has 10 labels"):
        ARTClassifier().fit(inputs, y[:10])
    with pytest.raises(TypeError, match="iterable-style torch Dataset"):
        ARTClassifier().fit(Stream(), None)
    with pytest.raises(ValueError, match="inputs of different shapes"):
        ARTClassifier(max_epochs=1).fit(Ragged(), np.arange(20) % 2)
    with pytest.raises(TypeError, match="X_val is a ndarray"):
        ARTClassifier().fit(inputs, y, X_val=X, y_val=y)


def test_feature_synthesis_methods_take_feature_vectors_only():
    X, y = _data()
    ds = TensorDataset(torch.from_numpy(X), torch.from_numpy(y))
    est = EGAClassifier(pretrain_epochs=2, max_epochs=1, random_state=0)
    np.testing.assert_array_equal(
        est.fit(ds, y).predict_proba(X),
        EGAClassifier(pretrain_epochs=2, max_epochs=1, random_state=0)
        .fit(X, y)
        .predict_proba(X),
    )
    images = TensorDataset(torch.zeros(20, 1, 4, 4), torch.arange(20) % 2)
    with pytest.raises(ValueError, match=r"feature vectors.*shape \(1, 4, 4\).*Embed"):
        EGAClassifier().fit(images, np.arange(20) % 2)
    with pytest.raises(ValueError, match="train_transform must be None"):
        EGAClassifier(train_transform=lambda x: x).fit(ds, y)
