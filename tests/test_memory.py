"""Memory of a fit and of predict_proba, against issue 14's targets.

``benchmarks/bench_memory.py`` measures the targets themselves (2M x 64
float64 and 10M x 32 float32); here the same child process runs at a size CI
affords, each case in a fresh process (peak resident memory, Linux only).
EGA and AutoSMOTE read their minority rows from the training fold instead of
copying them; the last tests hold those reads to the copies they replace.
"""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from skart import AutoSMOTEClassifier, EGAClassifier
from skart._autosmote._net import SeedPool
from skart._ega._meta import MetaState

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmarks/ lives beside the package, not in it
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_memory import measure  # noqa: E402

needs_proc = pytest.mark.skipif(
    not Path("/proc/self/clear_refs").exists(), reason="needs Linux's /proc"
)

# Allocator noise: heap pages glibc keeps after freeing, a few MB whatever the
# size (0.537x measured at this size, 0.540x at 2M x 64).
MARGIN = 0.03


@pytest.fixture(scope="module")
def float64_run():
    # 195 MB in, ~10 s a process. What glibc keeps at the peak moves from one
    # process to the next (0.50x to 0.60x of the input measured, for the same
    # code, on 16b6fae and on its successors alike): the least of up to three
    # fresh processes is the fit's own, the rest is the allocator's.
    runs = []
    for _ in range(3):
        runs.append(measure(400_000, 64, "float64"))
        if runs[-1]["fit_x"] <= 0.55:
            break
    return min(runs, key=lambda run: run["fit_x"])


@needs_proc
def test_fit_adds_one_float32_copy_of_a_float64_input(float64_run):
    # One float32 copy is 0.5x; the target allows 10% of it more for labels,
    # index arrays and torch's buffers (1.71x before the single copy, 0.64-0.68x
    # before the labels and indices were made compact).
    assert float64_run["fit_x"] <= 0.55 + MARGIN, float64_run


@needs_proc
def test_predict_proba_memory_is_bounded(float64_run):
    # Rows are converted a block at a time: what predict_proba adds is its
    # float64 output plus one block, not a float32 copy of X (0.5x here).
    # About 0.09x measured alone; 0.19x once on a loaded machine (allocator
    # arenas), so the bound sits between that and a copy.
    added = float64_run["proba_added_mb"] - float64_run["output_mb"]
    assert added < 0.3 * float64_run["input_mb"], float64_run


# -- EGA and AutoSMOTE: rows read from the training fold, not copied ----------


def test_ega_distance_from_rows_matches_a_copy():
    # The starting points read from the training fold a chunk at a time give
    # bitwise the distance of the whole copy they replace.
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(50, 3, generator=gen)
    rows = torch.tensor([4, 9, 9, 17, 0, 33, 48, 2, 11])  # a row may seed twice
    Z = X.index_select(0, rows) + 0.1 * torch.randn(len(rows), 3, generator=gen)
    kwargs = dict(
        eta1=0.1, eta2=1.0, synthetic_stream=None, valid_stream=None, valid=None
    )
    whole = MetaState(Z, rows, Z_init=X.index_select(0, rows), **kwargs)
    chunked = MetaState(Z, rows, init_rows=(X, rows), **kwargs)
    chunked.chunk_values = 7  # two rows of 3 values a chunk
    assert chunked.distance() == whole.distance()
    assert torch.equal(chunked.Z_init, whole.Z_init)


def test_seed_pool_reads_rows_as_a_copy_would():
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(40, 4, generator=gen)
    rows = torch.tensor([1, 5, 6, 20, 31, 39])
    y = torch.zeros(len(rows), dtype=torch.int64)
    neighbors = torch.tensor([[1, 2], [0, 2], [1, 3], [2, 4], [3, 5], [4, -1]])
    n_neighbors = torch.full((len(rows),), 2)
    copy = SeedPool(X[rows], y, neighbors, n_neighbors, {0: 3}, 40)
    view = SeedPool(X, y, neighbors, n_neighbors, {0: 3}, 40, source_rows=rows)
    idx = torch.tensor([5, 0, 0, 3])
    assert torch.equal(view.take(idx), copy.take(idx))
    assert torch.equal(view.take(view.neighbors[idx]), X[rows][copy.neighbors[idx]])


def test_decision_passes_read_the_pool_a_block_at_a_time():
    # Blocks of rows read from the training fold give the distributions and
    # entropies of one pass over a copy of the pool's rows.
    from skart._autosmote._decision_nets import (
        DecisionNets,
        decision_distributions,
        decision_logits,
    )

    gen = torch.Generator().manual_seed(0)
    X = torch.randn(50, 3, generator=gen)
    rows = torch.randperm(50, generator=gen)[:23]
    y = torch.randint(0, 2, (23,), generator=gen)
    k_mask = torch.ones(23, 4, dtype=torch.bool)
    nets = DecisionNets(
        3,
        2,
        variant="cohort",
        n_cohorts=3,
        k_max=4,
        n_aggregations=6,
        weighted=False,
        hidden_units=(8,),
    )
    whole, cohorts = decision_distributions(nets, X[rows], y, k_mask)
    blocks, block_cohorts = decision_distributions(nets, X, y, k_mask, rows)
    for name in whole:
        np.testing.assert_allclose(blocks[name], whole[name], rtol=1e-6)
    np.testing.assert_array_equal(block_cohorts, cohorts)
    n_blocks = len(list(decision_logits(nets, X, y, k_mask, rows, block_rows=5)))
    assert n_blocks == 5  # 23 rows in blocks of 5


class _StopPhaseTwo(Callback):
    """Interrupt phase 2 at its first batch, before any of its epochs ends."""

    def on_batch_end(self, net, training, **kwargs):
        if training and net.meta is not None:
            raise KeyboardInterrupt


def test_ega_interrupted_phase_two_returns_the_starting_points():
    # Without the clone held for the whole fit, the points of a phase 2 that
    # ends no epoch are read again from where they started.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 4))
    y = (X[:, 0] > 1.0).astype(int)
    clf = EGAClassifier(
        pretrain_epochs=1,
        max_epochs=2,
        eta2=100.0,
        callbacks=[_StopPhaseTwo()],
        random_state=0,
    ).fit(X, y)
    np.testing.assert_array_equal(clf.synthetic_X_, clf.synthetic_init_X_)


def test_autosmote_pool_holds_no_copy_of_its_rows():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 4))
    y = (X[:, 0] > 1.0).astype(int)
    clf = AutoSMOTEClassifier(max_epochs=1, random_state=0)
    seen = {}

    class Spy(Callback):
        def on_train_begin(self, net, X=None, **kwargs):
            seen["pool"] = net.pool
            seen["train"] = X

    clf.set_params(callbacks=[Spy()]).fit(X, y)
    pool = seen["pool"]
    assert pool.source is seen["train"].X  # the training fold's own tensor
    assert len(pool.source_rows) == len(clf.seed_classes_)
