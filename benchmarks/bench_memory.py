"""Peak memory that one epoch of ``ARTClassifier.fit`` adds to its input.

Each size runs in a fresh process; the peak RSS before the fit (after a tiny
warm-up fit that loads torch and skorch) is subtracted from the peak after it
and reported as a multiple of the input's bytes. One float32 copy of a
float64 input is 0.5x; of a float32 input, 1.0x::

    python benchmarks/bench_memory.py                 # 1M x 64 float64, 2M x 32 float32
    python benchmarks/bench_memory.py --rows 10000000 --features 32 --dtype float32
"""

import argparse
import os
import subprocess
import sys

CHILD = """
import resource, sys, numpy as np, torch
torch.set_num_threads(1)
from skart import ARTClassifier
n, d, dtype = int(sys.argv[1]), int(sys.argv[2]), np.dtype(sys.argv[3])
rng = np.random.default_rng(0)
X = rng.standard_normal((n, d), dtype=dtype)
y = (X[:, 0] + 0.5 * rng.standard_normal(n, dtype=dtype) > 1.5).astype(int)
ARTClassifier(max_epochs=1, random_state=0).fit(X[:2000], y[:2000])
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
ARTClassifier(max_epochs=1, patience=None, batch_size=4096, random_state=0).fit(X, y)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(f"| {n} x {d} {dtype} | {X.nbytes / 2**20:.0f} MB | "
      f"{(peak - base) / 2**20:.0f} MB | {(peak - base) / X.nbytes:.2f}x |")
"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="*", default=[1_000_000, 2_000_000])
    parser.add_argument("--features", type=int, nargs="*", default=[64, 32])
    parser.add_argument("--dtype", nargs="*", default=["float64", "float32"])
    args = parser.parse_args()
    print("| input | size | added by fit | x input |\n|---|---|---|---|")
    for n, d, dtype in zip(args.rows, args.features, args.dtype):
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(n), str(d), dtype],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
        )
        print(out.stdout.strip(), flush=True)


if __name__ == "__main__":
    main()
