"""Epoch time of one ARTClassifier trained data-parallel on W gloo processes.

The same synthetic data as bench_speed.py (rows x 32, five classes with
shares 0.6/0.25/0.1/0.04/0.01), an MLP without dropout, batch 256 per
process, ART on, early stopping off. For each world size W the ranks are
spawned on a free local port with one torch thread each, train
``--epochs`` epochs with ``distributed=True``, and the table reports the
median epoch time over the epochs after the first (rank 0's ``dur``,
which includes the validation pass) and the CPU seconds per epoch of all
ranks together (what an epoch costs whatever else runs on the machine;
with W free cores, the wall time would be about this over W); W=0 is the same fit without
``distributed`` (no DDP, for the overhead at W=1). Rounds interleave the
world sizes; the table gives the median and the range over rounds.

    OMP_NUM_THREADS=1 python benchmarks/bench_distributed.py --rounds 3       # ~3 min
    OMP_NUM_THREADS=1 python benchmarks/bench_distributed.py --rounds 3 --hidden 512 512 --rows 50000

Run it on a quiet machine with at least W free cores for meaningful numbers.
"""

import argparse
import json
import os
import platform
import socket
import statistics
import sys
import time
from datetime import timedelta

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_speed import make_data  # noqa: E402


def _cpu_timer():
    from skorch.callbacks import Callback

    class CPUTimer(Callback):
        """This process's CPU seconds per epoch: robust to other jobs on the machine."""

        def on_epoch_begin(self, net, **kwargs):
            self.start_ = time.process_time()

        def on_epoch_end(self, net, **kwargs):
            net.history.record("cpu", time.process_time() - self.start_)

    return CPUTimer()


def _fit(rank, world, port, args, results):
    torch.set_num_threads(1)
    from skart import ARTClassifier

    distributed = world > 0
    if distributed:
        dist.init_process_group(
            "gloo",
            init_method=f"tcp://127.0.0.1:{port}",
            rank=rank,
            world_size=world,
            timeout=timedelta(seconds=120),
        )
    X, y = make_data(args.rows)
    clf = ARTClassifier(
        max_epochs=args.epochs,
        batch_size=256,
        patience=None,
        random_state=0,
        distributed=distributed,
        module__hidden_units=tuple(args.hidden),
        module__dropout=0.0,
        callbacks=[_cpu_timer()],
    ).fit(X, y)
    results.put((rank, clf.history_[:, "dur"], clf.history_[:, "cpu"]))
    if distributed:
        dist.destroy_process_group()


def run(world, args):
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    procs = [
        ctx.Process(target=_fit, args=(r, world, port, args, results))
        for r in range(max(world, 1))
    ]
    for p in procs:
        p.start()
    got = sorted(results.get(timeout=1800) for _ in procs)
    for p in procs:
        p.join()
    wall = statistics.median(got[0][1][1:])  # rank 0, epochs after the first
    cpu = statistics.median(np.sum([g[2] for g in got], axis=0)[1:])  # all ranks
    return wall, cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--hidden", type=int, nargs="+", default=[64, 64])
    parser.add_argument("--worlds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    print(
        f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
        f"{args.rows} rows, MLP 32-{'-'.join(map(str, args.hidden))}-5, "
        f"batch 256 per process, {args.epochs} epochs"
    )
    times = {world: [] for world in args.worlds}
    for _ in range(args.rounds):
        for world in args.worlds:
            times[world].append(run(world, args))
            wall, cpu = times[world][-1]
            print(f"W={world}: {wall:.3f} s/epoch, {cpu:.3f} CPU s/epoch", flush=True)
    rows = {}
    for world, t in times.items():
        wall, cpu = (sorted(x[i] for x in t) for i in (0, 1))
        rows[world] = statistics.median(wall), statistics.median(cpu)
        label = "no DDP" if world == 0 else f"W={world} gloo"
        print(
            f"{label:>10}: {rows[world][0]:.3f} s/epoch (range {wall[0]:.3f}-"
            f"{wall[-1]:.3f}), {rows[world][1]:.3f} CPU s/epoch over all ranks "
            f"(range {cpu[0]:.3f}-{cpu[-1]:.3f})"
        )
    if 1 in rows:
        for world, (wall, cpu) in rows.items():
            if world > 1:
                print(
                    f"W={world} vs W=1: wall {rows[1][0] / wall:.2f}x faster, "
                    f"CPU {cpu / rows[1][1]:.2f}x"
                )
    print(json.dumps({str(k): [round(v, 4) for v in r] for k, r in rows.items()}))


if __name__ == "__main__":
    main()
