import numpy as np
import scipy.sparse as sp
import torch
from torch.utils.data import TensorDataset

from skart import ArrayDataset, BatchIterator, ClassDistributionSampler


def _data(n=103):
    X = torch.arange(n * 3, dtype=torch.float32).reshape(n, 3)
    return X, torch.arange(n)


def test_sequential_batches_cover_rows_in_order():
    X, y = _data()
    batches = list(BatchIterator(ArrayDataset(X, y), batch_size=10))
    assert len(batches) == len(BatchIterator(ArrayDataset(X, y), batch_size=10)) == 11
    torch.testing.assert_close(torch.cat([b[0] for b in batches]), X)
    torch.testing.assert_close(torch.cat([b[1] for b in batches]), y)


def test_shuffle_is_a_permutation_each_epoch():
    X, y = _data()
    it = BatchIterator(ArrayDataset(X, y), batch_size=16, shuffle=True, random_state=0)
    first = torch.cat([b[1] for b in it])
    second = torch.cat([b[1] for b in it])
    assert sorted(first.tolist()) == list(range(103))
    assert not torch.equal(first, second)
    # rows stay paired with their labels
    batch = next(iter(it))
    torch.testing.assert_close(batch[0], X[batch[1]])


def test_drop_last():
    X, y = _data()
    it = BatchIterator(ArrayDataset(X, y), batch_size=10, shuffle=True, drop_last=True)
    assert len(it) == 10 and all(len(b[1]) == 10 for b in it)


def test_sampler_drives_the_epoch():
    X, y = _data(100)
    labels = (np.arange(100) >= 90).astype(int)
    sampler = ClassDistributionSampler(labels, [0.0, 1.0], random_state=0)
    it = BatchIterator(ArrayDataset(X, y), batch_size=32, sampler=sampler)
    drawn = torch.cat([b[1] for b in it])
    assert len(drawn) == 100 and (drawn >= 90).all()


def test_sparse_is_densified_per_batch():
    X = sp.random(50, 7, density=0.2, format="csr", dtype=np.float32, random_state=0)
    y = torch.arange(50)
    Xb, yb = next(iter(BatchIterator(ArrayDataset(X, y), batch_size=8, shuffle=True)))
    assert Xb.shape == (8, 7) and Xb.dtype == torch.float32
    np.testing.assert_allclose(Xb.numpy(), X[yb.numpy()].toarray())


def test_other_datasets_use_a_dataloader():
    ds = TensorDataset(torch.zeros(10, 2), torch.arange(10))
    batches = list(BatchIterator(ds, batch_size=4))
    assert [len(b[1]) for b in batches] == [4, 4, 2]


def test_row_access():
    X, y = _data(5)
    Xi, yi = ArrayDataset(X, y)[2]
    torch.testing.assert_close(Xi, X[2])
    assert yi == 2


def test_compact_labels_come_as_int64_batches():
    X, y = _data(20)
    ds = ArrayDataset(X, y.to(torch.uint8))
    for idx in (torch.tensor([3, 1], dtype=torch.int32), slice(2, 5)):
        _, yb = ds.take(idx)
        assert yb.dtype == torch.int64
        assert yb.tolist() == y[idx].tolist()


def test_shuffled_epoch_is_numpy_permutation_in_int32():
    X, y = _data(50)
    it = BatchIterator(ArrayDataset(X, y), batch_size=8, shuffle=True, random_state=4)
    order = torch.cat([b[1] for b in it]).numpy()
    np.testing.assert_array_equal(order, np.random.RandomState(4).permutation(50))
    assert it._epoch_indices().dtype == np.int32
