"""Peak memory that ``fit`` and ``predict_proba`` add to their input (issue 14).

Each case runs in a fresh process. The peak resident memory before the fit
(after a tiny warm-up fit that loads torch and skorch) is subtracted from the
peak after it and reported as a multiple of the input's bytes; then the peak
is reset (``/proc/self/clear_refs``) and the same is done for
``predict_proba`` on the whole input, whose float64 output is part of what it
adds. One float32 copy of a float64 input is 0.5x, of a float32 input 1.0x;
the targets allow 10% more (0.55x and 1.1x)::

    python benchmarks/bench_memory.py            # both targets: 2M x 64 float64, 10M x 32 float32
    python benchmarks/bench_memory.py --case 1000000,64,float64 --estimator ega
    python benchmarks/bench_memory.py --case 400000,64,float64 --json   # what the test runs

Linux only (``/proc``). One torch thread; one epoch with a batch of 4096
(``--batch-size``).
"""

import argparse
import json
import os
import subprocess
import sys

# (rows, features, dtype, target: the most fit may add, as a multiple of X's bytes)
TARGETS = [(2_000_000, 64, "float64", 0.55), (10_000_000, 32, "float32", 1.1)]

CHILD = """
import json, sys, numpy as np, torch
torch.set_num_threads(1)
from skart import ARTClassifier, AutoSMOTEClassifier, EGAClassifier

def hwm():  # peak resident bytes of this process since the last reset
    with open("/proc/self/status") as f:
        line = next(l for l in f if l.startswith("VmHWM"))
    return int(line.split()[1]) * 1024

def rss():
    with open("/proc/self/status") as f:
        line = next(l for l in f if l.startswith("VmRSS"))
    return int(line.split()[1]) * 1024

n, d, dtype, name = int(sys.argv[1]), int(sys.argv[2]), np.dtype(sys.argv[3]), sys.argv[4]
batch_size = int(sys.argv[5])
rng = np.random.default_rng(0)
X = rng.standard_normal((n, d), dtype=dtype)
y = (X[:, 0] + 0.5 * rng.standard_normal(n, dtype=dtype) > 1.5).astype(int)
common = dict(max_epochs=1, batch_size=batch_size, random_state=0)
make = {
    "art": lambda **k: ARTClassifier(patience=None, **k),
    "ega": lambda **k: EGAClassifier(pretrain_epochs=1, **k),
    "autosmote": lambda **k: AutoSMOTEClassifier(**k),
}[name]
make(**common).fit(X[:20000], y[:20000])  # warm up torch, skorch, the allocator
base = hwm()
clf = make(**common).fit(X, y)
fit_added = hwm() - base
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak to the current resident size
before = rss()
proba = clf.predict_proba(X)
print(json.dumps({
    "rows": n, "features": d, "dtype": str(dtype), "estimator": name,
    "input_mb": X.nbytes / 2**20,
    "fit_added_mb": fit_added / 2**20, "fit_x": fit_added / X.nbytes,
    "proba_added_mb": (hwm() - before) / 2**20,
    "proba_x": (hwm() - before) / X.nbytes, "output_mb": proba.nbytes / 2**20,
}))
"""


def measure(rows, features, dtype, estimator="art", batch_size=4096):
    """Run one case in a fresh process; return its figures as a dict."""
    args = [str(rows), str(features), dtype, estimator, str(batch_size)]
    out = subprocess.run(
        [sys.executable, "-c", CHILD, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    if out.returncode != 0:
        raise RuntimeError(f"the child failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--case",
        action="append",
        help="rows,features,dtype (repeatable); default: the two targets",
    )
    parser.add_argument(
        "--estimator", default="art", choices=["art", "ega", "autosmote"]
    )
    parser.add_argument("--repeats", type=int, default=1, help="processes per case")
    parser.add_argument("--batch-size", type=int, default=4096)
    parser.add_argument("--json", action="store_true", help="one JSON line per run")
    args = parser.parse_args()
    cases = TARGETS
    if args.case:
        cases = []
        for case in args.case:
            rows, features, dtype = case.split(",")
            target = 0.55 if dtype == "float64" else 1.1
            cases.append((int(rows), int(features), dtype, target))
    if not args.json:
        print(
            f"| input ({args.estimator}) | size | fit adds | x input | target | "
            "predict_proba adds | x input | of which output |"
        )
        print("|---|---|---|---|---|---|---|---|")
    for rows, features, dtype, target in cases:
        for _ in range(args.repeats):
            r = measure(rows, features, dtype, args.estimator, args.batch_size)
            if args.json:
                print(json.dumps({**r, "target_x": target}), flush=True)
                continue
            verdict = "met" if r["fit_x"] <= target else "**missed**"
            print(
                f"| {rows:,} x {features} {dtype} | {r['input_mb']:.0f} MB | "
                f"{r['fit_added_mb']:.0f} MB | {r['fit_x']:.3f}x | <= {target}x {verdict} | "
                f"{r['proba_added_mb']:.0f} MB | {r['proba_x']:.3f}x | "
                f"{r['output_mb']:.0f} MB |",
                flush=True,
            )


if __name__ == "__main__":
    main()
