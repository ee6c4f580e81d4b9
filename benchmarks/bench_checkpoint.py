"""What ``checkpoint=DIR`` costs per epoch: the time and bytes of one write.

Times every checkpoint write of a short ART fit (the capture of the state, the
``torch.save`` to a temporary file, its flush and fsync, and the rename) and
reports the median, the file's size and the epoch's duration beside it. The
file holds the history too, which grows by one row (with its batches' losses)
per epoch: its share per epoch is reported as well.

    OMP_NUM_THREADS=1 python benchmarks/bench_checkpoint.py

Cases: ART's default MLP on 200k x 32 rows (the per-row state is the
sampler's, whose size does not grow with the rows), and a 1M-parameter MLP
(hidden_units=(1024, 960)) on 20k x 32 rows.
"""

import json
import os
import statistics
import tempfile
import time

import numpy as np
import torch

from skart import ARTClassifier, Checkpoint
from skart._nn import _checkpoint

TIMES = []
_save = _checkpoint.FitCheckpoint.save


def timed_save(self, net, complete):
    start = time.perf_counter()
    _save(self, net, complete)
    TIMES.append(time.perf_counter() - start)


_checkpoint.FitCheckpoint.save = timed_save


def case(name, n, epochs, **params):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n, 32)).astype(np.float32)
    y = (rng.random_sample(n) < 0.1).astype(int) + (rng.random_sample(n) < 0.02)
    X[:, 0] += y
    TIMES.clear()
    with tempfile.TemporaryDirectory() as directory:
        clf = ARTClassifier(
            max_epochs=epochs,
            random_state=0,
            checkpoint=Checkpoint(directory, keep=True),
            **params,
        ).fit(X, y)
        size = os.path.getsize(os.path.join(directory, _checkpoint.FILE))
    n_params = sum(p.numel() for p in clf.net_.module_.parameters())
    epoch = statistics.median(clf.history_[:, "dur"])
    history = len(json.dumps(clf.history_.to_list(), default=float)) / len(clf.history_)
    write = statistics.median(TIMES)
    print(
        f"{name}: {n_params:,} parameters, {size / 2**20:.2f} MiB per checkpoint, "
        f"write {write * 1e3:.0f} ms (median of {len(TIMES)}), "
        f"epoch {epoch:.2f} s ({100 * write / epoch:.1f}% of it); the history "
        f"(per-batch losses) adds {history / 2**10:.0f} KiB per epoch run"
    )


if __name__ == "__main__":
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    case("ART, default MLP, 200k x 32", 200_000, 3)
    case("ART, 1M-parameter MLP, 20k x 32", 20_000, 3, module__hidden_units=(1024, 960))
