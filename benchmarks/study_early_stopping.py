"""Validation study: what should early stopping watch?

``monitor="loss"`` (the default) stops on the validation loss; ``"metric"`` on the
mean per-class F1 (macro F1); ``"loss_or_metric"`` goes on while either improves and
restores the best-metric epoch. Each runs with ART and without (``art=False``), with
skart's defaults otherwise (patience 10, 100 epochs at most).

The measure is macro-F1 on a *selection* split (30 %, stratified) that neither
training nor the validation fold sees; no test split is touched. Data: the 22 binary
imbalanced-learn sets staged offline (each subsampled to at most ``--max-rows``
rows, stratified) and the multi-class Yeast and red Wine, from ../shared/data (or
SKART_DATA). One torch thread; results are appended to a CSV as they come::

    python benchmarks/study_early_stopping.py --seeds 3 --out benchmarks/results/early_stopping.csv
    python benchmarks/study_early_stopping.py --summary benchmarks/results/early_stopping.csv
"""

import argparse
import csv
import os
from pathlib import Path

import numpy as np
import torch
from scipy.stats import wilcoxon
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skart import ARTClassifier
from skart.datasets import fetch_imblearn_benchmark, fetch_wine_quality, fetch_yeast
from skart.datasets._imblearn_benchmark import IMBLEARN_BENCHMARK_FILES

DATA = Path(
    os.environ.get(
        "SKART_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"
    )
)
MONITORS = ("loss", "metric", "loss_or_metric")


def load(name, max_rows, seed):
    if name == "yeast":
        X, y = fetch_yeast(data_home=DATA, return_X_y=True, download_if_missing=False)
    elif name == "wine":
        X, y = fetch_wine_quality(
            data_home=DATA, return_X_y=True, download_if_missing=False
        )
    else:
        X, y = fetch_imblearn_benchmark(
            name, data_home=DATA, return_X_y=True, download_if_missing=False
        )
    if len(y) > max_rows:
        X, _, y, _ = train_test_split(
            X, y, train_size=max_rows, stratify=y, random_state=seed
        )
    X_tr, X_sel, y_tr, y_sel = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=seed
    )
    scaler = StandardScaler().fit(X_tr)
    return scaler.transform(X_tr), scaler.transform(X_sel), y_tr, y_sel


# The sets of both studies: the 22 binary imbalanced-learn sets, Yeast, Wine.
NAMES = sorted(IMBLEARN_BENCHMARK_FILES) + ["yeast", "wine"]


def pending(path, header, seeds):
    """Yield ``(name, seed, writer)`` for each set and seed not yet in the CSV.

    Rows are appended to ``path`` (created with ``header``) and flushed after
    each set, so an interrupted study resumes where it stopped.
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = set()
    if out.exists():
        with open(out) as f:
            done = {(r["data"], int(r["seed"])) for r in csv.DictReader(f)}
    new = not out.exists()
    with open(out, "a", newline="") as f:
        writer = csv.writer(f)
        if new:
            writer.writerow(header)
        for seed in range(seeds):
            for name in NAMES:
                if (name, seed) not in done:
                    yield name, seed, writer
                    f.flush()
                    print(f"seed {seed} {name} done", flush=True)


def run(args):
    torch.set_num_threads(1)
    header = ["data", "seed", "art", "monitor", "macro_f1", "epochs"]
    for name, seed, writer in pending(args.out, header, args.seeds):
        X_tr, X_sel, y_tr, y_sel = load(name, args.max_rows, seed)
        for art in (True, False):
            for monitor in MONITORS:
                clf = ARTClassifier(art=art, monitor=monitor, random_state=seed)
                clf.fit(X_tr, y_tr)
                score = f1_score(y_sel, clf.predict(X_sel), average="macro")
                writer.writerow([name, seed, art, monitor, score, clf.n_iter_])


def summarise(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    table = {}
    for r in rows:
        key = (r["art"] == "True", r["monitor"])
        table.setdefault(key, {}).setdefault(r["data"], []).append(
            (float(r["macro_f1"]), int(r["epochs"]))
        )
    seeds = len({r["seed"] for r in rows})
    print(f"macro-F1 on the selection split, mean over {seeds} seeds then over sets")
    print(
        "| model | monitor | sets | mean macro-F1 | vs loss | wins | Wilcoxon p | epochs |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for art in (True, False):
        ref = table[(art, "loss")]
        for monitor in MONITORS:
            cur = table[(art, monitor)]
            sets = sorted(set(cur) & set(ref))
            a = np.array([np.mean([s for s, _ in cur[d]]) for d in sets])
            b = np.array([np.mean([s for s, _ in ref[d]]) for d in sets])
            epochs = np.mean([e for d in sets for _, e in cur[d]])
            if monitor == "loss":
                diff, wins, p = "-", "-", "-"
            else:
                diff = f"{100 * (a - b).mean():+.2f}"
                wins = f"{int((a > b).sum())}/{len(sets)}"
                p = f"{wilcoxon(a, b).pvalue:.3f}" if np.any(a != b) else "1"
            name = "ART" if art else "baseline"
            print(
                f"| {name} | {monitor} | {len(sets)} | {a.mean():.4f} | {diff} | "
                f"{wins} | {p} | {epochs:.1f} |"
            )


def main(run=run, summary=None, seeds=3, out="benchmarks/results/early_stopping.csv"):
    """The command line of a study: run it, or summarise its CSV."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=seeds)
    parser.add_argument("--max-rows", type=int, default=2000)
    parser.add_argument("--out", default=out)
    parser.add_argument("--summary", metavar="CSV")
    args = parser.parse_args()
    if args.summary:
        (summary or summarise)(args.summary)
    else:
        run(args)


if __name__ == "__main__":
    main()
