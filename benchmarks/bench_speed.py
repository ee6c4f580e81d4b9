"""Training speed of ART against a hand-written PyTorch loop, plain skorch and art-resampling.

Each variant trains the same MLP (32 -> 64 -> 64 -> 5, no dropout) with the
same AdamW settings on the same synthetic data (200k x 32, five classes with
shares 0.6/0.25/0.1/0.04/0.01) for a few epochs, in a process of its own, so
that its peak resident memory is its own. Rounds interleave the variants and
the table reports medians over rounds of the steady-state epochs (the first
epoch is dropped) as time per training row relative to the hand-written loop.

Run with one torch thread (the default here; two threads swing by +-30% from
process to process on a 2-core machine)::

    python benchmarks/bench_speed.py            # the table, ~5 minutes
    python benchmarks/bench_speed.py --threads 2
    python benchmarks/bench_speed.py --scaling   # time per row and fit memory, 100k to 10M rows
    python benchmarks/bench_speed.py --device cuda   # on a GPU (issue 14's target: (4) <= 1.10x (1f))

On ``--device cuda`` the hand-written loops hold X and y on the GPU, draw
each epoch's permutation there, and synchronise once at the end of each epoch
before reading the clock; ARTClassifier gets ``device="cuda"`` (it moves its
float32 training fold to the GPU once, and reads its batch losses once per
epoch). The variants that cannot use a GPU (skorch's DataLoader defaults,
art-resampling) are left out there. The first epoch (CUDA's start-up, cuBLAS
handles, the caching allocator) is dropped like every first epoch.

``art-resampling`` (the authors' package, GPL-3.0) is an optional benchmark
dependency: ``pip install art-resampling``; its row is skipped without it.
"""

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

SHARES = [0.6, 0.25, 0.1, 0.04, 0.01]
N_FEATURES, HIDDEN, BATCH, LR = 32, (64, 64), 256, 1e-3


def make_data(n_rows, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.choice(len(SHARES), size=n_rows, p=SHARES)
    centers = rng.normal(scale=0.7, size=(len(SHARES), N_FEATURES))
    X = (rng.normal(size=(n_rows, N_FEATURES)) + centers[y]).astype(np.float32)
    return X, y.astype(np.int64)


def make_module():
    from skart import MLP

    return MLP(N_FEATURES, len(SHARES), hidden_units=HIDDEN, dropout=0.0)


# -- the variants: each returns (seconds per epoch list, training rows per epoch) --


def run_torch_loop(X, y, epochs, fused=False, device="cpu"):
    """The reference: tensor indexing, randperm per epoch, no per-row Python.

    On a GPU the data, the permutation and the model live there and the loop
    synchronises once per epoch, before reading the clock.
    """
    import torch

    device = torch.device(device)
    Xt, yt = torch.from_numpy(X).to(device), torch.from_numpy(y).to(device)
    model = make_module().to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=LR, fused=fused or None)
    loss_fn = torch.nn.CrossEntropyLoss()
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        model.train()
        perm = torch.randperm(len(Xt), device=device)
        for start in range(0, len(Xt), BATCH):
            idx = perm[start : start + BATCH]
            opt.zero_grad()
            loss = loss_fn(model(Xt[idx]), yt[idx])
            loss.backward()
            opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - t0)
    return times, len(X)


def run_skorch(X, y, epochs, device="cpu"):
    """skorch NeuralNetClassifier with its defaults (DataLoader over rows, 20% validation)."""
    import torch
    from skorch import NeuralNetClassifier

    net = NeuralNetClassifier(
        make_module(),
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.AdamW,
        lr=LR,
        batch_size=BATCH,
        max_epochs=epochs,
        iterator_train__shuffle=True,
        device=device,
    )
    net.fit(X, y)
    return list(net.history[:, "dur"]), int(0.8 * len(X))


def run_art(X, y, epochs, art=True, fused=None, device="cpu"):
    from skart import ARTClassifier

    extra = {} if fused is None else {"optimizer__fused": fused}
    clf = ARTClassifier(
        make_module(),
        art=art,
        lr=LR,
        batch_size=BATCH,
        max_epochs=epochs,
        random_state=0,
        device=device,
        **extra,
    ).fit(X, y)
    return list(clf.history_[:, "dur"]), int(clf.class_counts_.sum())


def run_art_resampling(X, y, epochs, device="cpu"):
    """The authors' loop: rebuild a resampled copy of X and a DataLoader at each refresh."""
    if device != "cpu":
        raise ValueError("the art-resampling loop runs on the CPU only")
    import torch
    from art_resampling import ARTDataset, art_refresh_dataset_from_predictions
    from sklearn.model_selection import train_test_split
    from torch.utils.data import DataLoader

    X_tr, X_va, y_tr, y_va = train_test_split(
        X, y, test_size=0.15, stratify=y, random_state=0
    )
    K = len(SHARES)
    dataset = ARTDataset(
        X_tr, y_tr, c=0.5, cls_weights=np.full(K, 1 / K), enable_art=True
    )
    loader_kwargs = {"batch_size": BATCH, "shuffle": True}
    loader = DataLoader(dataset, **loader_kwargs)
    X_va_t = torch.from_numpy(X_va)
    model = make_module()
    opt = torch.optim.AdamW(model.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        model.train()
        for batch in loader:
            opt.zero_grad()
            loss = loss_fn(model(batch["x"]), batch["y"])
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            y_pred = torch.cat(
                [
                    model(X_va_t[i : i + BATCH]).argmax(1)
                    for i in range(0, len(X_va_t), BATCH)
                ]
            ).numpy()
        loader, _, _ = art_refresh_dataset_from_predictions(
            dataset, y_va, y_pred, K, loader_kwargs
        )
        times.append(time.perf_counter() - t0)
    return times, len(X_tr)


VARIANTS = {
    "torch_loop": ("(1) hand-written PyTorch loop, AdamW defaults", run_torch_loop),
    "torch_loop_fused": (
        "(1f) hand-written loop, fused AdamW",
        lambda X, y, e, device="cpu": run_torch_loop(X, y, e, True, device),
    ),
    "skorch": ("(2) skorch NeuralNetClassifier, defaults", run_skorch),
    "art_off": (
        "(3) ARTClassifier(art=False), defaults",
        lambda X, y, e, device="cpu": run_art(X, y, e, False, device=device),
    ),
    "art": ("(4) ARTClassifier, ART on, bf=1, defaults", run_art),
    "art_unfused": (
        "(4u) ARTClassifier, ART on, AdamW unfused (= (1)'s optimiser)",
        lambda X, y, e, device="cpu": run_art(X, y, e, True, False, device),
    ),
    "art_resampling": (
        "(5) art-resampling loop, refresh every epoch",
        run_art_resampling,
    ),
}


def _status_bytes(field):
    """A ``/proc/self/status`` field (VmRSS, VmHWM) in bytes."""
    with open("/proc/self/status") as f:
        line = next(line for line in f if line.startswith(field))
    return int(line.split()[1]) * 1024


# The variants a GPU can run (the others read batches through a CPU DataLoader).
GPU_VARIANTS = ["torch_loop", "torch_loop_fused", "art_off", "art", "art_unfused"]


def child(name, n_rows, epochs, threads, memory=False, device="cpu"):
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    X, y = make_data(n_rows)
    if memory:
        # What the fit adds to its input: warm torch and skorch up on a few
        # rows, reset the peak to the current size, and read the peak after.
        VARIANTS[name][1](X[:2000], y[:2000], 1, device=device)
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        before = _status_bytes("VmRSS")
    times, n_train = VARIANTS[name][1](X, y, epochs, device=device)
    steady = times[1:] if len(times) > 1 else times
    result = {
        "name": name,
        "epoch_s": statistics.median(steady),
        "n_train": n_train,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if device != "cpu":
        import torch

        result["device"] = torch.cuda.get_device_name(torch.device(device))
        result["peak_device_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
    if memory:
        result["fit_added_x"] = (_status_bytes("VmHWM") - before) / X.nbytes
    print(json.dumps(result))


def run_child(name, n_rows, epochs, threads, memory=False, device="cpu"):
    env = {
        **os.environ,
        "OMP_NUM_THREADS": str(threads),
        "MKL_NUM_THREADS": str(threads),
    }
    cmd = [
        sys.executable,
        __file__,
        "--child",
        name,
        "--rows",
        str(n_rows),
        "--epochs",
        str(epochs),
        "--threads",
        str(threads),
        *(["--memory"] if memory else []),
        *(["--device", device] if device != "cpu" else []),
    ]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        if "No module named 'art_resampling'" in out.stderr:
            return None
        raise RuntimeError(f"{name} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def time_refresh(n_classes, n_valid=30_000, repeats=200):
    """Seconds for one ART refresh: scores from the epoch's validation predictions, new p."""
    import torch
    from skorch.history import History

    from skart import ARTCallback, ClassDistributionSampler

    rng = np.random.default_rng(0)
    y_train = np.arange(100 * n_classes) % n_classes
    cb = ARTCallback(
        ClassDistributionSampler(y_train, random_state=0), bf=1
    ).initialize()

    class Net:
        history = History()

    net = Net()
    cb.on_train_begin(net)
    y_true = torch.from_numpy(rng.integers(0, n_classes, n_valid))
    logits = torch.randn(n_valid, n_classes)
    batches = [(None, y_true[i : i + BATCH]) for i in range(0, n_valid, BATCH)]
    preds = [logits[i : i + BATCH] for i in range(0, n_valid, BATCH)]
    times = []
    for _ in range(repeats):
        net.history.new_epoch()
        cb.on_epoch_begin(net)
        for batch, yp in zip(batches, preds):  # the per-batch part, during validation
            cb.on_batch_end(net, batch, training=False, y_pred=yp)
        t0 = time.perf_counter()
        cb.on_epoch_end(net)  # the refresh itself
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def scaling(args):
    """Time per training row and fit memory of ART (4) from 100k to 10M rows.

    Rounds interleave the sizes (each size once per round, each run in a
    process of its own), so a load that comes and goes on a shared machine
    falls on every size alike; each round's time per row is divided by that
    round's 100k figure and the table gives the medians over rounds.
    """
    sizes = sorted(set(args.scaling_rows) | {100_000})
    runs = {n: [] for n in sizes}
    for r in range(args.rounds):
        for n in sizes:
            runs[n].append(
                run_child("art", n, 3, args.threads, memory=True, device=args.device)
            )
        print(f"# round {r + 1}/{args.rounds} done", file=sys.stderr, flush=True)
    per_row = {n: [x["epoch_s"] / x["n_train"] for x in res] for n, res in runs.items()}
    print(
        f"\nART on (4), 3 epochs (first dropped), batch {BATCH}, {N_FEATURES} float32 "
        f"features, medians over {args.rounds} interleaved rounds\n"
    )
    print(
        "| rows | s/epoch | us per training row | relative to 100k (same round) | "
        "fit adds (x input) | target |"
    )
    print("|---|---|---|---|---|---|")
    for n, res in runs.items():
        ratio = statistics.median(
            a / b for a, b in zip(per_row[n], per_row[100_000], strict=True)
        )
        added = statistics.median(x["fit_added_x"] for x in res)
        print(
            f"| {n:,} | {statistics.median(x['epoch_s'] for x in res):.3f} | "
            f"{statistics.median(per_row[n]) * 1e6:.2f} | {ratio:.2f} | "
            f"{added:.3f}x | {'<= 1.1x' if n == sizes[-1] else '-'} |"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--variants",
        nargs="*",
        help="default: every variant on the CPU, those a GPU can run on one",
    )
    parser.add_argument(
        "--device", default="cpu", help='"cpu" or a CUDA device ("cuda", "cuda:1")'
    )
    parser.add_argument("--scaling", action="store_true")
    parser.add_argument(
        "--scaling-rows",
        type=int,
        nargs="*",
        default=[100_000, 1_000_000, 10_000_000],
        help="sizes of --scaling (100,000 is the reference)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--memory", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(
            args.child, args.rows, args.epochs, args.threads, args.memory, args.device
        )
    if args.variants is None:
        args.variants = list(VARIANTS) if args.device == "cpu" else GPU_VARIANTS

    import torch

    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, torch {torch.__version__}, "
        f"{args.threads} torch thread(s)"
    )
    if args.device != "cpu":
        if not torch.cuda.is_available():
            parser.error(f"--device {args.device}: torch sees no CUDA device here")
        print(f"# device {args.device}: {torch.cuda.get_device_name(args.device)}")
    if args.scaling:
        return scaling(args)

    results = {name: [] for name in args.variants}
    for r in range(args.rounds):
        for name in args.variants:
            res = run_child(
                name, args.rows, args.epochs, args.threads, device=args.device
            )
            if res is not None:
                results[name].append(res)
        print(f"# round {r + 1}/{args.rounds} done", file=sys.stderr)

    def per_row(name):
        return statistics.median(r["epoch_s"] / r["n_train"] for r in results[name])

    ref_row = per_row("torch_loop")
    fused_row = per_row("torch_loop_fused") if results.get("torch_loop_fused") else None
    ref_rss = statistics.median(r["peak_rss_mb"] for r in results["torch_loop"])
    print(
        f"\n{args.rows:,} rows, {args.epochs} epochs (first dropped), batch {BATCH}, "
        f"device {args.device}, medians over {args.rounds} rounds\n"
    )
    print(
        "| training loop | s/epoch | training rows | time per row vs (1) | vs (1f) | "
        "peak RSS MB | RSS vs (1) |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, res in results.items():
        if not res:
            print(f"| {VARIANTS[name][0]} | not installed | | | | | |")
            continue
        rss = statistics.median(r["peak_rss_mb"] for r in res)
        vs_fused = f"{per_row(name) / fused_row:.2f}" if fused_row else "-"
        print(
            f"| {VARIANTS[name][0]} | {statistics.median(r['epoch_s'] for r in res):.3f} | "
            f"{res[0]['n_train']:,} | {per_row(name) / ref_row:.2f} | {vs_fused} | "
            f"{rss:.0f} | {rss / ref_rss:.2f} |"
        )
    if args.device != "cpu":
        return None  # the refresh below is timed on the CPU
    torch.set_num_threads(args.threads)
    print("\n| one ART refresh, 30k validation rows | ms |\n|---|---|")
    for k in (5, 1000):
        print(f"| K = {k} | {time_refresh(k) * 1e3:.3f} |")
    return None


if __name__ == "__main__":
    main()
