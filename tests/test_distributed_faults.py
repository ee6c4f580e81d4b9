"""A data-parallel fit whose rank dies or hangs: the others stop, with skart's error.

Each rank is a real process (``python -c``) on gloo, as ``torchrun`` starts
them; one of them sends itself a signal from a callback in the second epoch.
The test waits under a hard deadline and kills whatever is left, so it can
never hang the suite.
"""

import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

MESSAGE = "Another rank most likely died"

RANK = textwrap.dedent(
    """
    import os, signal, sys, time
    from datetime import timedelta

    import torch
    import torch.distributed as dist
    from sklearn.datasets import make_classification
    from skorch.callbacks import Callback

    from skart import ARTClassifier

    rank, world, port, victim, timeout, sig = sys.argv[1:7]
    rank, world, victim = int(rank), int(world), int(victim)
    torch.set_num_threads(1)


    class Fault(Callback):
        # The victim's signal, at the second batch of epoch 2: mid-epoch.
        def on_batch_begin(self, net, **kwargs):
            row = net.history[-1]
            if rank == victim and len(net.history) == 2 and len(row["batches"]) == 1:
                with open(os.environ["FAULT_AT"], "w") as f:
                    f.write(repr(time.time()))
                os.kill(os.getpid(), getattr(signal, sig))


    dist.init_process_group(
        "gloo",
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=world,
        timeout=timedelta(seconds=float(timeout)),
    )
    try:
        X, y = make_classification(
            n_samples=1200, n_features=8, weights=[0.8], random_state=0
        )
        ARTClassifier(
            max_epochs=4,
            batch_size=32,
            random_state=0,
            distributed=True,
            callbacks=[Fault()],
        ).fit(X, y)
    finally:
        dist.destroy_process_group()
    """
)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fault(tmp_path, sig, world, group_timeout, deadline):
    """Run ``world`` ranks, rank 1 sends itself ``sig``; each rank's exit.

    Returns ``{rank: (returncode, stderr, seconds from the fault to the
    exit)}`` for the ranks other than the victim. Every process still
    running at the deadline is killed and the test fails.
    """
    port = _free_port()
    fault_at = tmp_path / "fault_at"
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "FAULT_AT": str(fault_at),
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RANK, str(rank), str(world), str(port), "1"]
            + [str(group_timeout), sig],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for rank in range(world)
    ]
    survivors = [r for r in range(world) if r != 1]
    out = {}
    end = time.monotonic() + deadline
    try:
        for r in survivors:
            try:
                _, stderr = procs[r].communicate(timeout=max(end - time.monotonic(), 1))
            except subprocess.TimeoutExpired:
                pytest.fail(f"rank {r} still ran {deadline} s after the start: a hang")
            exited = time.time()
            assert fault_at.exists(), f"rank 1 never reached its fault:\n{stderr}"
            out[r] = (procs[r].returncode, stderr, exited - float(fault_at.read_text()))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()  # the stopped victim too (SIGKILL ends a stopped process)
            p.wait()
            if p.stderr:
                p.stderr.close()
    return out


def test_a_rank_killed_mid_epoch_stops_the_others_with_a_clear_error(tmp_path):
    # A killed rank's sockets close: gloo's collectives on the survivor raise
    # at once, well before the process group's timeout.
    group_timeout = 20
    (result,) = _fault(
        tmp_path, "SIGKILL", world=2, group_timeout=group_timeout, deadline=120
    ).values()
    returncode, stderr, seconds = result
    assert returncode != 0
    assert "CollectiveError" in stderr and MESSAGE in stderr, stderr[-3000:]
    assert "rank 0 of 2 stopped during epoch 2" in stderr
    assert seconds < group_timeout, seconds


@pytest.mark.slow
def test_a_hung_rank_stops_the_others_at_the_process_group_timeout(tmp_path):
    # A stopped rank keeps its sockets open: the survivors wait for it until
    # the process group's timeout, then raise. Three ranks: the one not
    # waiting on the victim directly stops too.
    group_timeout = 8
    results = _fault(
        tmp_path, "SIGSTOP", world=3, group_timeout=group_timeout, deadline=150
    )
    for returncode, stderr, seconds in results.values():
        assert returncode != 0
        assert MESSAGE in stderr, stderr[-3000:]
        assert group_timeout - 1 < seconds < 3 * group_timeout + 15, seconds


def test_other_errors_are_not_blamed_on_a_dead_rank():
    from skart._nn._distributed import CollectiveError, collective

    with pytest.raises(RuntimeError, match="mat1 and mat2") as info:
        with collective("in a test"):
            raise RuntimeError("mat1 and mat2 shapes cannot be multiplied")
    assert not isinstance(info.value, CollectiveError)
    with pytest.raises(CollectiveError, match=rf"{MESSAGE}.*torch said: .*reset"):
        with collective("in a test"):
            raise RuntimeError("[gloo/pair.cc:537] Connection reset by peer")
