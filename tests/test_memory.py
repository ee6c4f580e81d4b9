"""Memory of a fit and of predict_proba, against issue 14's targets.

``benchmarks/bench_memory.py`` measures the targets themselves (2M x 64
float64 and 10M x 32 float32); here the same child process runs at a size CI
affords, each case in a fresh process (peak resident memory, Linux only).
"""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmarks/ lives beside the package, not in it
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_memory import measure  # noqa: E402

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/clear_refs").exists(), reason="needs Linux's /proc"
)

# Allocator noise: heap pages glibc keeps after freeing, a few MB whatever the
# size (0.537x measured at this size, 0.540x at 2M x 64).
MARGIN = 0.03


@pytest.fixture(scope="module")
def float64_run():
    return measure(400_000, 64, "float64")  # 195 MB in, ~10 s


def test_fit_adds_one_float32_copy_of_a_float64_input(float64_run):
    # One float32 copy is 0.5x; the target allows 10% of it more for labels,
    # index arrays and torch's buffers (1.71x before the single copy, 0.64-0.68x
    # before the labels and indices were made compact).
    assert float64_run["fit_x"] <= 0.55 + MARGIN, float64_run


def test_predict_proba_memory_is_bounded(float64_run):
    # Rows are converted a block at a time: what predict_proba adds is its
    # float64 output plus one block, not a float32 copy of X (0.5x here).
    # About 0.09x measured alone; 0.19x once on a loaded machine (allocator
    # arenas), so the bound sits between that and a copy.
    added = float64_run["proba_added_mb"] - float64_run["output_mb"]
    assert added < 0.3 * float64_run["input_mb"], float64_run
