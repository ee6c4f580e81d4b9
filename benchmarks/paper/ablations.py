"""Ablations on Pima: ART and the baseline as c, bf, width or imbalance vary.

Four sweeps, each with its CSV (one row per value x method x seed) and PNG
(test macro-F1, mean ± std over seeds) in ``benchmarks/results/ablations``:

- ``c``: ART's prior weight, 0 to 1 (the baseline does not depend on it);
- ``bf``: epochs between two refreshes, 1 to 20 (nor on this);
- ``width``: hidden units of both MLP layers, 16 to 256;
- ``imbalance``: the positive class subsampled so that negatives outnumber
  positives 2 to 50 to 1 (Pima: 500 / 268 = 1.9 to 1), before the split.

Other hyperparameters stay at the Table 1 defaults (lr 1e-3, weight decay
1e-2, width 64, c 0.5, bf 1), with the paper's 70/15/15 protocol::

    python -m benchmarks.paper.ablations                  # 5 seeds, ~2 min
    python -m benchmarks.paper.ablations --seeds all --n-jobs 2
"""

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from .methods import METHODS, Method
from .protocol import SEEDS, context, default_data_home, fit_one, load, scores, split

RESULTS = Path(__file__).resolve().parents[1] / "results" / "ablations"
SWEEPS = {
    "c": [0.0, 0.25, 0.5, 0.75, 1.0],
    "bf": [1, 2, 5, 10, 20],
    "width": [16, 32, 64, 128, 256],
    "imbalance": [2, 5, 10, 20, 50],
}


def subsample_positives(X, y, ratio, seed):
    """Keep ``round(n_negative / ratio)`` randomly chosen positives (class 1)."""
    rng = np.random.default_rng(seed)
    neg, pos = np.flatnonzero(y == 0), np.flatnonzero(y == 1)
    n_pos = min(len(pos), max(2, round(len(neg) / ratio)))
    keep = np.sort(np.concatenate([neg, rng.choice(pos, n_pos, replace=False)]))
    return X[keep], y[keep]


def one(sweep, value, method_name, seed, data_home, max_epochs=100):
    import torch

    torch.set_num_threads(1)
    X, y = load("Pima", str(data_home))
    if sweep == "imbalance":
        X, y = subsample_positives(X, y, value, seed)
    data = split(X, y, seed, "tabular")
    ctx = context("tabular", data[1], seed, max_epochs)
    method: Method = METHODS[method_name]
    params = method.all_defaults(ctx)
    if sweep in params:
        params[sweep] = value
    est, val_f1 = fit_one(method, params, data, ctx)
    return {
        "sweep": sweep,
        "value": value,
        "method": method_name,
        "seed": seed,
        **scores(data[5], est.predict(data[4])),
        "val_macro_f1": val_f1,
        "n_train": len(data[1]),
        "n_train_positive": int(data[1].sum()),
    }


def plot(df, sweep, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    for method, d in df.groupby("method", sort=False):
        g = d.groupby("value")["macro_f1"]
        m, s = 100 * g.mean(), 100 * g.std(ddof=1)
        ax.plot(m.index, m, marker="o", label=method)
        ax.fill_between(m.index, m - s, m + s, alpha=0.2)
    if sweep in ("bf", "width", "imbalance"):
        ax.set_xscale("log")
        ax.set_xticks(SWEEPS[sweep], [str(v) for v in SWEEPS[sweep]])
        ax.set_xticks([], minor=True)
    label = {
        "c": "c (weight of the class prior)",
        "bf": "bf (epochs between refreshes)",
        "width": "hidden units per layer",
        "imbalance": "imbalance ratio (negatives per positive)",
    }[sweep]
    ax.set_xlabel(label)
    ax.set_ylabel("test macro-F1 (%)")
    ax.set_title(f"Pima: {sweep} sweep, mean ± std over {df.seed.nunique()} seeds")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", default="5", help="'all' (20) or a count N (the first N)")
    p.add_argument(
        "--sweeps", default=",".join(SWEEPS), help="comma list of " + ", ".join(SWEEPS)
    )
    p.add_argument("--n-jobs", type=int, default=1)
    p.add_argument("--max-epochs", type=int, default=100)
    p.add_argument("--data-home", default=str(default_data_home()))
    p.add_argument("--out", default=str(RESULTS))
    args = p.parse_args(argv)
    seeds = SEEDS if args.seeds == "all" else SEEDS[: int(args.seeds)]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    frames = {}
    for sweep in args.sweeps.split(","):
        jobs = [
            (sweep, v, m, s)
            for v in SWEEPS[sweep]
            for m in ("ART", "Baseline")
            for s in seeds
        ]
        rows = Parallel(n_jobs=args.n_jobs)(
            delayed(one)(*j, args.data_home, args.max_epochs) for j in jobs
        )
        df = pd.DataFrame(rows)
        df.to_csv(out / f"ablation_{sweep}.csv", index=False)
        plot(df, sweep, out / f"ablation_{sweep}.png")
        table = (
            100
            * df.pivot_table(
                index="value",
                columns="method",
                values="macro_f1",
                aggfunc=["mean", "std"],
            )
        ).round(2)
        print(f"\n{sweep} sweep (test macro-F1 %, {len(seeds)} seeds)\n{table}")
        frames[sweep] = df
    return frames


if __name__ == "__main__":
    main()
