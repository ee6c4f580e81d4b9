"""One model data-parallel with torch.distributed: processes on gloo, one machine.

The multi-process tests spawn their ranks from pytest on a free local port,
with a deadline: a rank that fails reports its traceback, and a rank that
hangs is killed, so a broken synchronisation fails the test instead of the
suite.
"""

import functools
import os
import pickle
import queue
import socket
import time
import traceback
from datetime import timedelta

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from sklearn.datasets import make_classification
from sklearn.metrics import fbeta_score

from skart import ARTClassifier, ClassDistributionSampler
from skart._metrics import class_scores
from skart._nn._distributed import ShardedShuffle, check_world_size, global_class_scores


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _entry(target, rank, world, port, results, kwargs):
    os.environ["OMP_NUM_THREADS"] = "1"
    torch.set_num_threads(1)
    backend = kwargs.get("backend", "gloo")
    try:
        if backend == "nccl":
            torch.cuda.set_device(rank)
        dist.init_process_group(
            backend,
            init_method=f"tcp://127.0.0.1:{port}",
            rank=rank,
            world_size=world,
            timeout=timedelta(seconds=60),
        )
        results.put((rank, "ok", target(rank, world, **kwargs)))
    except BaseException:
        results.put((rank, "error", traceback.format_exc()))
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def run_ranks(target, world=2, timeout=150, **kwargs):
    """Run ``target(rank, world, **kwargs)`` on ``world`` gloo ranks; their results."""
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    port = _free_port()
    procs = [
        ctx.Process(target=_entry, args=(target, r, world, port, results, kwargs))
        for r in range(world)
    ]
    for p in procs:
        p.start()
    out = {}
    deadline = time.monotonic() + timeout
    try:
        while len(out) < world:
            if time.monotonic() > deadline:
                pytest.fail(f"ranks {sorted(set(range(world)) - set(out))} timed out")
            try:
                rank, status, payload = results.get(timeout=1)
            except queue.Empty:
                dead = [r for r, p in enumerate(procs) if p.exitcode not in (None, 0)]
                if dead and not any(r in out for r in dead):
                    pytest.fail(f"ranks {dead} died without a result")
                continue
            if status == "error":
                pytest.fail(f"rank {rank} failed:\n{payload}")
            out[rank] = payload
    finally:
        for p in procs:
            p.join(5)
            if p.is_alive():
                p.kill()
    return [out[r] for r in range(world)]


def _data(n=600):
    return make_classification(
        n_samples=n,
        n_features=8,
        n_informative=5,
        n_classes=3,
        weights=[0.7, 0.2, 0.1],
        random_state=0,
    )


def _fit_result(clf, X):
    history = [
        {k: v for k, v in row.items() if k not in ("dur", "batches")}
        for row in clf.history_
    ]
    restored = pickle.loads(pickle.dumps(clf))
    return {
        "history": history,
        "weights": {k: v.numpy() for k, v in clf.net_.module_.state_dict().items()},
        "p": clf.sampling_distribution_,
        "offsets": clf.decision_offsets_,
        "proba": restored.predict_proba(X),
        "n_iter": clf.n_iter_,
    }


def _two_ranks(rank, world):
    """Everything the default 2-rank test checks, in one process group."""
    res = {}
    # The sampler's shard of epoch 2 of a 1001-draw pass.
    y = np.repeat(np.arange(3), [70, 20, 10])
    sampler = ClassDistributionSampler(
        y,
        [0.2, 0.3, 0.5],
        num_samples=1001,
        num_replicas=world,
        rank=rank,
        random_state=3,
    )
    sampler.set_epoch(2)
    res["shard"] = sampler.sample_indices()
    # A deliberately uneven validation split: 7 rows on rank 0, 3 on rank 1.
    y_true = torch.tensor([0, 0, 1, 2, 1, 0, 2, 2, 1, 0])
    y_pred = torch.tensor([0, 1, 1, 2, 0, 0, 2, 1, 1, 0])
    w = torch.linspace(0.5, 2.0, 10, dtype=torch.float64)
    rows = slice(0, 7) if rank == 0 else slice(7, 10)
    f2 = functools.partial(fbeta_score, beta=2, average=None, zero_division=0)
    res["scores"] = {
        name: global_class_scores(
            y_true[rows], y_pred[rows], 3, metric, None if wt is None else wt[rows]
        )
        for name, metric, wt in [
            ("f1", "f1", None),
            ("recall_weighted", "recall", w),
            ("f2", f2, None),
        ]
    }
    # Bad input: different data on the ranks, a validation fold smaller than
    # the world; every rank raises the same error (none waits for the other).
    X, y = _data()
    errors = {}
    for name, Xr, yr, kw in [
        ("different rows", X[: 600 - rank], y[: 600 - rank], {}),
        ("different labels", X, np.where(np.arange(600) == rank, 2, y), {}),
        ("different parameters", X, y, {"c": 0.5 + rank / 10}),
        ("small validation fold", X[:4], [0, 0, 0, 1], {"validation_fraction": 0.34}),
    ]:
        try:
            ARTClassifier(max_epochs=1, random_state=0, distributed=True, **kw).fit(
                Xr, yr
            )
        except ValueError as exc:
            errors[name] = str(exc)
    res["errors"] = errors
    # One ART fit with the early-stopping rule that reads the loss and the
    # metric, and the tuned decision rule; 181 validation rows give shards of
    # 91 and 90.
    X, y = _data(1200)
    clf = ARTClassifier(
        max_epochs=5,
        patience=2,
        monitor="loss_or_metric",
        decision="tuned",
        lr=1e-2,
        random_state=0,
        distributed=True,
        module__hidden_units=(32,),
        verbose=int(rank == 0),  # may differ: the epoch table on rank 0 only
    ).fit(X, y)
    res["fit"] = _fit_result(clf, X)
    return res


def test_two_gloo_ranks_train_one_model():
    r0, r1 = run_ranks(_two_ranks, world=2)
    # The shards interleave into the pass one process draws.
    union = np.empty(1002, dtype=np.int64)
    union[0::2], union[1::2] = r0["shard"], r1["shard"]
    y = np.repeat(np.arange(3), [70, 20, 10])
    single = ClassDistributionSampler(
        y, [0.2, 0.3, 0.5], num_samples=1002, random_state=3
    )
    single.set_epoch(2)
    np.testing.assert_array_equal(union, single.sample_indices())
    # Scores of the uneven split: those of one process on all ten rows.
    y_true = torch.tensor([0, 0, 1, 2, 1, 0, 2, 2, 1, 0])
    y_pred = torch.tensor([0, 1, 1, 2, 0, 0, 2, 1, 1, 0])
    w = torch.linspace(0.5, 2.0, 10, dtype=torch.float64)
    f2 = functools.partial(fbeta_score, beta=2, average=None, zero_division=0)
    expected = {
        "f1": class_scores(y_true, y_pred, 3),
        "recall_weighted": class_scores(y_true, y_pred, 3, "recall", w),
        "f2": class_scores(y_true, y_pred, 3, f2),
    }
    for name, scores in expected.items():
        np.testing.assert_allclose(r0["scores"][name], scores, rtol=1e-12)
        np.testing.assert_array_equal(r0["scores"][name], r1["scores"][name])
    # Bad input: the same clear error on both ranks.
    assert r0["errors"] == r1["errors"]
    assert "differ from rank 0 in: number of rows" in r0["errors"]["different rows"]
    assert "row labels" in r0["errors"]["different labels"]
    assert "in: parameters." in r0["errors"]["different parameters"]
    assert (
        "world size 2 is larger than the 1 rows of the validation"
        in (r0["errors"]["small validation fold"])
    )
    # One model: the same p, history, weights and decision on both ranks.
    f0, f1 = r0["fit"], r1["fit"]
    assert f0["history"] == f1["history"]
    assert f0["n_iter"] == f1["n_iter"] >= 3
    for name, w0 in f0["weights"].items():
        np.testing.assert_array_equal(w0, f1["weights"][name])
    np.testing.assert_array_equal(f0["p"], f1["p"])
    np.testing.assert_array_equal(f0["offsets"], f1["offsets"])
    np.testing.assert_array_equal(f0["proba"], f1["proba"])  # after a pickle round trip
    # ART moved p away from the prior, and the model learned.
    prior = np.bincount(_data(1200)[1]) / 1200
    assert np.abs(f0["p"] - prior).max() > 0.05
    assert f0["history"][-1]["valid_f1"] > 0.5


def _weighted_and_plain(rank, world, n_rows):
    X, y = _data(n_rows)
    w = np.random.default_rng(0).uniform(0.2, 2.0, len(y))
    out = {}
    for name, kw, fit in [
        ("weighted", {}, {"sample_weight": w}),
        ("art=False", {"art": False}, {}),
        ("random_state=None", {"random_state": None}, {}),
    ]:
        params = {"max_epochs": 3, "random_state": 0, **kw}
        clf = ARTClassifier(distributed=True, **params).fit(X, y, **fit)
        out[name] = _fit_result(clf, X)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("world", [3, 4])
def test_weighted_plain_and_unseeded_fits_agree_on_every_rank(world):
    results = run_ranks(_weighted_and_plain, world=world, n_rows=500)
    for name in results[0]:
        for other in results[1:]:
            assert results[0][name]["history"] == other[name]["history"], name
            for key, w0 in results[0][name]["weights"].items():
                np.testing.assert_array_equal(w0, other[name]["weights"][key])


def _dataset_and_array(rank, world):
    from torch.utils.data import TensorDataset

    X, y = _data(600)
    ds = TensorDataset(torch.from_numpy(X.astype(np.float32)), torch.from_numpy(y))
    out = {}
    for name, data in (("array", X), ("dataset", ds)):
        for art in (True, False):
            clf = ARTClassifier(distributed=True, max_epochs=3, random_state=0, art=art)
            out[name, art] = clf.fit(data, y).predict_proba(X)
    return out


def test_a_dataset_on_two_ranks_trains_the_model_of_the_array():
    # The shards of a torch Dataset are positions in it: the ranks draw the
    # same shards, and validate on the same shards, as for the array.
    r0, r1 = run_ranks(_dataset_and_array, world=2)
    for art in (True, False):
        np.testing.assert_array_equal(r0["array", art], r0["dataset", art])
        np.testing.assert_array_equal(r0["dataset", art], r1["dataset", art])


# -- in this process, no process group ----------------------------------------


def test_no_process_group_is_a_clear_error():
    X, y = _data(100)
    with pytest.raises(RuntimeError, match="none is initialised.*torchrun"):
        ARTClassifier(max_epochs=1, distributed=True).fit(X, y)


def test_distributed_is_validated():
    X, y = _data(100)
    with pytest.raises(
        ValueError, match="'distributed' parameter.*must be an instance"
    ):
        ARTClassifier(distributed="yes").fit(X, y)


def test_world_size_larger_than_the_training_fold():
    with pytest.raises(
        ValueError, match="world size 8 is larger than the 5 rows of the training"
    ):
        check_world_size(8, 5, 20)
    check_world_size(5, 5, 5)  # one row each is enough


@pytest.mark.parametrize("world", [1, 2, 3])
def test_sharded_shuffle_covers_every_row_in_equal_shards(world):
    shards = [ShardedShuffle(10, 0, world, r) for r in range(world)]
    for s in shards:
        s.set_epoch(1)
    drawn = [s.sample_indices() for s in shards]
    assert {len(d) for d in drawn} == {len(shards[0])}
    assert set(np.concatenate(drawn)) == set(range(10))
    shards[0].set_epoch(2)
    assert not np.array_equal(shards[0].sample_indices(), drawn[0])


@pytest.mark.slow
def test_the_torchrun_example(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    torchrun = Path(sys.executable).with_name("torchrun")
    out = tmp_path / "clf.pkl"
    done = subprocess.run(
        [
            str(torchrun),
            "--standalone",
            "--nproc-per-node",
            "2",
            str(root / "examples" / "torchrun_art.py"),
            "--rows",
            "3000",
            "--epochs",
            "3",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "2 processes (gloo), 3 epochs, test macro-F1" in done.stdout
    with open(out, "rb") as f:
        clf = pickle.load(f)
    assert clf.predict(np.zeros((2, 20))).shape == (2,)


def _cuda_fit(rank, world, backend):
    X, y = _data(1200)
    out = {}
    if backend == "nccl":
        try:
            ARTClassifier(max_epochs=1, distributed=True).fit(X, y)  # device="cpu"
        except ValueError as exc:
            out["error"] = str(exc)
    device = f"cuda:{rank if backend == 'nccl' else 0}"
    clf = ARTClassifier(
        max_epochs=3, random_state=0, device=device, distributed=True
    ).fit(X, y)
    out["fit"] = {
        "p": clf.sampling_distribution_,
        "weights": {
            k: v.cpu().numpy() for k, v in clf.net_.module_.state_dict().items()
        },
    }
    return out


@pytest.mark.cuda
@pytest.mark.parametrize("backend", ["nccl", "gloo"])
def test_cuda_ranks_train_one_model(backend):
    # NCCL needs a GPU per rank; gloo puts both ranks on the first GPU.
    needed = 2 if backend == "nccl" else 1
    if torch.cuda.device_count() < needed:
        pytest.skip(f"{backend} needs {needed} CUDA device(s)")
    r0, r1 = run_ranks(_cuda_fit, world=2, backend=backend)
    np.testing.assert_array_equal(r0["fit"]["p"], r1["fit"]["p"])
    for name, w0 in r0["fit"]["weights"].items():
        np.testing.assert_array_equal(w0, r1["fit"]["weights"][name])
    if backend == "nccl":
        assert "NCCL, which needs GPU tensors" in r0["error"]
