import numpy as np
import pytest
import torch
from scipy import stats
from torch.utils.data import DataLoader, TensorDataset

from skart import ClassDistributionSampler


def test_empirical_frequencies_match_p():
    y = np.repeat(np.arange(4), [500, 300, 150, 50])
    p = np.array([0.1, 0.2, 0.3, 0.4])
    sampler = ClassDistributionSampler(y, p, num_samples=20_000, random_state=0)
    counts = np.bincount(y[sampler.sample_indices()], minlength=4)
    # Chi-square goodness of fit: at the 0.1% level a correct sampler fails
    # once in a thousand seeds; this seed is fixed.
    assert stats.chisquare(counts, 20_000 * p).pvalue > 1e-3
    # and the 5-sigma binomial band on each class
    sigma = np.sqrt(20_000 * p * (1 - p))
    assert np.all(np.abs(counts - 20_000 * p) < 5 * sigma)


def test_uniform_within_class():
    y = np.repeat([0, 1], [10, 990])
    sampler = ClassDistributionSampler(
        y, [0.5, 0.5], num_samples=20_000, random_state=1
    )
    idx = sampler.sample_indices()
    minority = np.bincount(idx[y[idx] == 0], minlength=10)
    assert stats.chisquare(minority).pvalue > 1e-3


def test_default_p_is_prior_and_len():
    y = np.array([0, 0, 0, 1])
    sampler = ClassDistributionSampler(y)
    np.testing.assert_allclose(sampler.p, [0.75, 0.25])
    assert len(sampler) == 4 and len(sampler.sample_indices()) == 4


def test_distribution_is_read_at_each_pass():
    y = np.repeat([0, 1], [50, 50])
    sampler = ClassDistributionSampler(y, [1.0, 0.0], random_state=0)
    loader = DataLoader(
        TensorDataset(torch.from_numpy(y)), sampler=sampler, batch_size=100
    )
    (first,) = [b[0] for b in loader]
    assert (first == 0).all()
    sampler.set_distribution([0.0, 1.0])  # after the loader was built
    (second,) = [b[0] for b in loader]
    assert (second == 1).all()


def test_reproducible():
    y = np.repeat([0, 1, 2], [30, 20, 10])
    a = ClassDistributionSampler(y, random_state=3).sample_indices()
    b = ClassDistributionSampler(y, random_state=3).sample_indices()
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "p, match",
    [
        ([0.5, 0.5], r"shape \(3,\)"),
        ([-0.1, 0.6, 0.5], "non-negative"),
        ([0.0, 0.0, 0.0], "not all zero"),
    ],
)
def test_bad_distribution(p, match):
    sampler = ClassDistributionSampler(np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=match):
        sampler.set_distribution(p)


def test_mass_on_empty_class():
    sampler = ClassDistributionSampler(np.array([0, 0, 2]))
    with pytest.raises(ValueError, match=r"classes \[1\] which have no rows"):
        sampler.set_distribution([0.3, 0.3, 0.4])


def test_labels_must_be_indices():
    with pytest.raises(ValueError, match="integer class indices"):
        ClassDistributionSampler(np.array(["a", "b"]))


# -- sharding for torch.distributed ------------------------------------------


def _shards(y, p, world, epoch, **kw):
    shards = []
    for rank in range(world):
        s = ClassDistributionSampler(
            y, p, num_replicas=world, rank=rank, random_state=7, **kw
        )
        s.set_epoch(epoch)
        shards.append(s.sample_indices())
    return shards


def _union(shards):
    # Interleave the strided shards back into one pass.
    out = np.empty(sum(len(s) for s in shards), dtype=np.int64)
    for rank, s in enumerate(shards):
        out[rank :: len(shards)] = s
    return out


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("world", [1, 2, 3, 4])
def test_union_of_shards_is_the_single_process_pass(world, weighted):
    y = np.repeat(np.arange(3), [60, 30, 11])
    w = np.random.default_rng(0).uniform(0, 2, len(y)) if weighted else None
    p = [0.2, 0.3, 0.5]
    n = 101
    shards = _shards(y, p, world, epoch=3, num_samples=n, sample_weight=w)
    # Equal shard lengths: every rank runs as many batches.
    assert {len(s) for s in shards} == {-(-n // world)}
    single = ClassDistributionSampler(
        y, p, num_samples=world * len(shards[0]), random_state=7, sample_weight=w
    )
    single.set_epoch(3)
    np.testing.assert_array_equal(_union(shards), single.sample_indices())
    # The pass does not depend on the world size: its first n draws are the
    # n-draw pass of one process.
    one = ClassDistributionSampler(y, p, num_samples=n, random_state=7, sample_weight=w)
    one.set_epoch(3)
    np.testing.assert_array_equal(_union(shards)[:n], one.sample_indices())


@pytest.mark.parametrize("world", [1, 2, 3, 4])
def test_union_frequencies_follow_p(world):
    y = np.repeat(np.arange(4), [500, 300, 150, 50])
    p = np.array([0.1, 0.2, 0.3, 0.4])
    counts = np.zeros(4)
    for epoch in range(10):
        union = _union(_shards(y, p, world, epoch, num_samples=2000))
        counts += np.bincount(y[union], minlength=4)
    assert stats.chisquare(counts, counts.sum() * p).pvalue > 1e-3


def test_set_epoch_keys_the_draws():
    y = np.repeat([0, 1, 2], [50, 30, 20])
    s = ClassDistributionSampler(y, num_replicas=2, rank=1, random_state=0)
    first = s.sample_indices()  # epoch 0 before any set_epoch
    s.set_epoch(0)
    np.testing.assert_array_equal(s.sample_indices(), first)
    np.testing.assert_array_equal(s.sample_indices(), first)  # no hidden state
    s.set_epoch(1)
    assert not np.array_equal(s.sample_indices(), first)
    # A new p takes effect at once, as in the stateful draws.
    s.set_distribution([0, 0, 1])
    assert set(y[s.sample_indices()]) == {2}


def test_set_epoch_without_sharding_and_without_int_seed():
    y = np.repeat([0, 1], [40, 10])
    s = ClassDistributionSampler(y, random_state=np.random.RandomState(0))
    s.set_epoch(4)
    a = s.sample_indices()
    np.testing.assert_array_equal(s.sample_indices(), a)
    assert len(s) == 50 and s.epoch == 4


def test_unsharded_draws_unchanged():
    # Without set_epoch or sharding the sampler draws as it always did.
    y = np.repeat([0, 1, 2], [50, 30, 20])
    a = ClassDistributionSampler(y, random_state=0).sample_indices()
    rng = np.random.RandomState(0)
    per_class = rng.multinomial(100, [0.5, 0.3, 0.2])
    cls = np.repeat(np.arange(3), per_class)
    pos = np.array([0, 50, 80])[cls] + (
        rng.random_sample(100) * np.array([50, 30, 20])[cls]
    ).astype(np.int64)
    expected = np.argsort(y, kind="stable")[pos]
    rng.shuffle(expected)
    np.testing.assert_array_equal(a, expected)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"num_replicas": 2}, "Give both num_replicas and rank"),
        ({"rank": 0}, "Give both num_replicas and rank"),
        ({"num_replicas": 0, "rank": 0}, "num_replicas must be a positive int"),
        (
            {"num_replicas": 2, "rank": 2},
            r"rank must be an int in \[0, num_replicas=2\)",
        ),
        (
            {"num_replicas": 2, "rank": 0, "random_state": None},
            "needs an int random_state",
        ),
    ],
)
def test_sharding_errors(kwargs, match):
    kwargs = {"random_state": 0, **kwargs}
    with pytest.raises(ValueError, match=match):
        ClassDistributionSampler(np.array([0, 1, 1]), **kwargs)


def test_set_epoch_error():
    s = ClassDistributionSampler(np.array([0, 1, 1]), random_state=0)
    with pytest.raises(ValueError, match="epoch must be a non-negative int"):
        s.set_epoch(-1)


def _one_shot_pass(sampler_rng, y, p, sample_weight=None):
    """The pass as drawn before the draws were chunked: n-sized arrays at once."""
    y = np.asarray(y)
    counts = np.bincount(y, minlength=len(p))
    order = np.argsort(y, kind="stable")
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    n = len(y)
    per_class = sampler_rng.multinomial(n, p)
    cls = np.repeat(np.arange(len(p)), per_class)
    u = sampler_rng.random_sample(n)
    if sample_weight is None:
        pos = starts[cls] + (u * counts[cls]).astype(np.int64)
    else:
        weights = np.bincount(y, weights=sample_weight, minlength=len(p))
        cumulative = np.cumsum(sample_weight[order])
        before = np.concatenate(([0.0], cumulative))[starts]
        pos = np.searchsorted(cumulative, before[cls] + u * weights[cls], side="right")
        pos = np.clip(pos, starts[cls], (starts + counts - 1)[cls])
    indices = order[pos]
    sampler_rng.shuffle(indices)
    return indices


@pytest.mark.parametrize("weighted", [False, True])
def test_chunked_draws_equal_one_shot_draws(weighted):
    # More rows than one chunk of draws (65,536): the chunks take their share
    # of the same random stream, so a pass is the one drawn all at once.
    rng = np.random.default_rng(0)
    y = rng.choice(4, size=150_001, p=[0.7, 0.2, 0.09, 0.01])
    w = rng.random(len(y)) if weighted else None
    p = np.array([0.1, 0.2, 0.3, 0.4])
    sampler = ClassDistributionSampler(y, p=p, random_state=5, sample_weight=w)
    reference_rng = np.random.RandomState(5)
    for _ in range(2):  # two passes: the stream goes on identically
        idx = sampler.sample_indices()
        assert idx.dtype == np.int32
        np.testing.assert_array_equal(idx, _one_shot_pass(reference_rng, y, p, w))
