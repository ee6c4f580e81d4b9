"""Decoupled classifier re-training (cRT, tau-norm) against the plain net and ART.

The paper harness's protocol (``benchmarks/paper``): stratified 70/15/15
splits per seed, tabular features z-scored with the training split's
statistics, the validation split for early stopping (and for tau and the
tuned offsets), the test split for the reported scores, and each method at
its defaults (no tuning) on the harness's network for the data set (the MLP
for tabular sets, ``CompactCNN`` for MNIST-LT). Glass is not in the harness's
list; it is loaded here and treated as a tabular set.

    python -m benchmarks.decoupled.run                       # 10 seeds, 4 sets
    python -m benchmarks.decoupled.run --datasets Glass --seeds 3

Each finished (data set, method, seed) appends one row to
``benchmarks/decoupled/results/raw.csv``; a rerun skips the rows there. The
report (``report.md``: mean ± sd over seeds, and a paired Wilcoxon
signed-rank test and t-test of each method against the plain net with tuned
offsets) is rewritten at the end from every row of the file.
"""

import argparse
import csv
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import recall_score

from benchmarks.paper import stats
from benchmarks.paper.methods import METHODS, Method, _net_params
from benchmarks.paper.protocol import (
    SEEDS,
    context,
    default_data_home,
    fit_one,
    scores,
    split,
)
from benchmarks.paper.protocol import load as harness_load
from skart._decoupled import DecoupledClassifier

RESULTS = Path(__file__).resolve().parent / "results"
DATASETS = ["MNIST-LT", "Yeast", "Wine", "Glass"]
KIND = {"MNIST-LT": "image", "Yeast": "tabular", "Wine": "tabular", "Glass": "tabular"}
REFERENCE = "Baseline+threshold"
OWN = {
    "cRT": Method(
        "cRT", lambda p, c: DecoupledClassifier(method="crt", **_net_params(p, c))
    ),
    "tau-norm": Method(
        "tau-norm",
        lambda p, c: DecoupledClassifier(method="tau_norm", **_net_params(p, c)),
    ),
}
ALL = {
    "Baseline": METHODS["Baseline"],
    REFERENCE: METHODS[REFERENCE],
    "ART": METHODS["ART"],
    **OWN,
}
FIELDS = [
    "dataset",
    "method",
    "seed",
    "max_epochs",
    "macro_f1",
    "accuracy",
    "macro_recall",
    "worst_class_recall",
    "val_macro_f1",
    "epochs",
    "fit_seconds",
]


def load(name, data_home):
    if name == "Glass":
        from skart.datasets import fetch_glass

        X, y = fetch_glass(
            data_home=data_home, return_X_y=True, download_if_missing=False
        )
        y = np.unique(np.asarray(y), return_inverse=True)[1]
        return np.asarray(X, dtype=np.float32), y
    return harness_load(name, str(data_home))


def evaluate(dataset, method_name, seed, data_home, max_epochs):
    """One row: fit on the training split (+ validation), score on the test split."""
    import torch

    torch.set_num_threads(1)
    method, kind = ALL[method_name], KIND[dataset]
    X, y = load(dataset, data_home)
    data = split(X, y, seed, kind)
    ctx = context(kind, data[1], seed, max_epochs)
    start = time.perf_counter()
    est, val_f1 = fit_one(method, method.all_defaults(ctx), data, ctx)
    seconds = time.perf_counter() - start
    y_pred = est.predict(data[4])
    s = scores(data[5], y_pred)
    recalls = recall_score(data[5], y_pred, average=None, zero_division=0)
    return {
        "dataset": dataset,
        "method": method_name,
        "seed": seed,
        "max_epochs": max_epochs,
        "macro_f1": round(s["macro_f1"], 5),
        "accuracy": round(s["accuracy"], 5),
        "macro_recall": round(s["macro_recall"], 5),
        "worst_class_recall": round(float(recalls.min()), 5),
        "val_macro_f1": round(val_f1, 5),
        "epochs": getattr(est, "n_iter_", ""),
        "fit_seconds": round(seconds, 2),
    }


def report(df):
    """Markdown: mean ± sd per method x data set, and paired tests vs REFERENCE."""
    lines = []
    for metric in ("macro_f1", "worst_class_recall"):
        summ = stats.summarize(df, [metric])
        order = {k: i for i, k in enumerate([*DATASETS, *ALL])}
        summ = summ.sort_values(
            ["dataset", "method"], key=lambda c: c.map(order), kind="stable"
        )
        tests = stats.paired_tests(df, REFERENCE, metric)
        lines += [
            f"### {metric} (percent, mean ± sd over seeds)",
            "",
            "| data set | method | n | mean ± sd | vs "
            f"{REFERENCE}: mean diff | Wilcoxon p | t-test p |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in summ.itertuples():
            mean, sd = getattr(r, f"{metric}_mean"), getattr(r, f"{metric}_std")
            t = tests[(tests.dataset == r.dataset) & (tests.method == r.method)]
            # paired_tests gives reference - method; report method - reference.
            diff = wp = tp = "–"
            if not t.empty:
                diff = f"{-100 * t.delta.iat[0]:+.2f}"
                wp, tp = f"{t.wilcoxon_p.iat[0]:.3g}", f"{t.t_p.iat[0]:.3g}"
            lines.append(
                f"| {r.dataset} | {r.method} | {r.n_seeds} | {100 * mean:.2f} ± "
                f"{100 * sd:.2f} | {diff} | {wp} | {tp} |"
            )
        lines.append("")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--datasets", default=",".join(DATASETS))
    p.add_argument("--methods", default=",".join(ALL))
    p.add_argument("--seeds", type=int, default=10, help="the harness's first N seeds")
    p.add_argument("--max-epochs", type=int, default=100)
    p.add_argument("--data-home", default=str(default_data_home()))
    p.add_argument("--out", default=str(RESULTS))
    args = p.parse_args(argv)
    datasets, methods = args.datasets.split(","), args.methods.split(",")
    seeds = SEEDS[: args.seeds]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    raw = out / "raw.csv"
    done = set()
    if raw.is_file():
        d = pd.read_csv(raw)
        done = set(zip(d.dataset, d.method, d.seed, d.max_epochs))
    todo = [
        (d, m, s)
        for d in datasets
        for s in seeds
        for m in methods
        if (d, m, s, args.max_epochs) not in done
    ]
    print(f"{len(done)} rows in {raw}; {len(todo)} to run.", file=sys.stderr)
    new = not raw.is_file()
    with raw.open("a", newline="") as f, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        if new:
            writer.writeheader()
        for d, m, s in todo:
            row = evaluate(d, m, s, args.data_home, args.max_epochs)
            writer.writerow(row)
            f.flush()
            print(
                f"{d} {m} {s}: macro-F1 {row['macro_f1']:.4f} ({row['fit_seconds']} s)",
                file=sys.stderr,
            )
    df = pd.read_csv(raw)
    text = report(df)
    (out / "report.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
