"""The speed benchmark's loops, on the CPU here and on a GPU where there is one.

``benchmarks/bench_speed.py --device cuda`` compares ARTClassifier with the
hand-written loop on a GPU (issue 14); these tests run the same child code at
a tiny size, so the command is known to work before a GPU is lent.
"""

import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmarks/ lives beside the package, not in it
    sys.path.insert(0, str(ROOT))

from benchmarks import bench_speed  # noqa: E402


@pytest.mark.parametrize("name", bench_speed.GPU_VARIANTS)
def test_the_gpu_variants_train_on_the_device(name, device):
    X, y = bench_speed.make_data(3000)
    times, n_train = bench_speed.VARIANTS[name][1](X, y, 2, device=device)
    assert len(times) == 2 and all(t > 0 for t in times)
    # The hand loops train on every row; ART on its training fold (85%).
    assert n_train == (3000 if name.startswith("torch_loop") else 2550)


def test_hand_loop_keeps_the_data_on_the_device(monkeypatch, device):
    # Every batch the model sees is on the device: no per-batch host copy.
    seen = []
    forward = torch.nn.Module.__call__

    def spy(module, *args, **kwargs):
        if args and torch.is_tensor(args[0]) and module.__class__.__name__ == "MLP":
            seen.append(args[0].device.type)
        return forward(module, *args, **kwargs)

    monkeypatch.setattr(torch.nn.Module, "__call__", spy)
    X, y = bench_speed.make_data(1000)
    bench_speed.run_torch_loop(X, y, 1, device=device)
    assert seen and set(seen) == {torch.device(device).type}


def test_art_resampling_refuses_a_gpu():
    X, y = bench_speed.make_data(100)
    with pytest.raises(ValueError, match="CPU only"):
        bench_speed.run_art_resampling(X, y, 1, device="cuda")
