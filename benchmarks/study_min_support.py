"""Validation study: should ART trust the F1 of a class with very few validation rows?

ART scores each class on its validation fold. A class with one or two validation
rows gets an F1 of 0 or 1 on a coin flip of the model's guess, and a 0 keeps it at
the maximum sampling weight. This study compares two remedies with skart's rule
(every class with a validation row is scored by its raw F1):

* ``m=k``: classes with fewer than ``k`` validation rows are unscored (neutral
  weight);
* ``shrink a``: F1 shrunk towards the mean F1 of the scored classes, as the
  posterior mean under a prior worth ``a`` half-rows of evidence,
  ``(2 TP + a * mean_f1) / (n_pred + n_true + a)``; F1 is ``2 TP / (n_pred +
  n_true)``, so a class with a large support keeps its F1 and a class with one
  missed row moves from 0 to ``a * mean_f1 / (1 + n_pred + a)``.

The baseline (``art=False``) is given for reference. The measure is macro-F1 on a
*selection* split that neither training nor ART's validation fold sees; no test
split is touched. Also reported: the largest class share of ART's sampling
distribution, averaged over the epochs (the symptom: one tiny class hogging the
batches). Data: long-tailed digits (balanced selection split), Yeast, red Wine
Quality and Glass (stratified 70/30), from the offline copies in ../shared/data
(or SKART_DATA). One torch thread::

    python benchmarks/study_min_support.py --seeds 10 --out study_min_support.csv
"""

import argparse
import functools
import os
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.stats import wilcoxon
from sklearn.datasets import load_digits
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from study_early_stopping import load  # the binary sets and their splits

from skart import ARTClassifier
from skart._art._update import smooth_scores
from skart.datasets import (
    fetch_glass,
    fetch_wine_quality,
    fetch_yeast,
    make_long_tailed,
)
from skart.datasets._imblearn_benchmark import IMBLEARN_BENCHMARK_FILES

DATA = Path(
    os.environ.get(
        "SKART_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"
    )
)


def f1_min_support(y_true, y_pred, labels, m):
    """Per-class F1; NaN (unscored) for classes with fewer than m validation rows."""
    scores = f1_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    scores[np.bincount(y_true, minlength=len(labels)) < m] = np.nan
    return scores


def f1_shrunk(y_true, y_pred, labels, a):
    """Per-class F1 shrunk towards the mean F1 of the classes with validation rows."""
    k = len(labels)
    n_true = np.bincount(y_true, minlength=k)
    n_pred = np.bincount(y_pred, minlength=k)
    tp = np.bincount(y_true[y_true == y_pred], minlength=k)
    scored = n_true > 0
    raw = np.divide(2.0 * tp, n_pred + n_true, out=np.zeros(k), where=scored)
    prior = raw[scored].mean()
    scores = (2.0 * tp + a * prior) / (n_pred + n_true + a)
    scores[~scored] = np.nan
    return scores


def support_shrunk(y_true, y_pred, labels, rows):
    """F1 shrunk by support with skart's rule (``smooth``), as a metric callable.

    ``(n f + rows m) / (n + rows)``, with ``n`` the class's validation rows and
    ``m`` the mean F1 of the classes with validation rows: a prior worth
    ``rows`` validation rows. Needs no counts beyond the support, so it applies
    to any metric.
    """
    scores = f1_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    n = np.bincount(y_true, minlength=len(labels)).astype(float)
    scores[n == 0] = np.nan
    return smooth_scores(scores, n, rows)


POLICIES = {
    "baseline": None,
    "raw F1 (default)": "f1",
    "m=2": functools.partial(f1_min_support, m=2),
    "m=3": functools.partial(f1_min_support, m=3),
    "shrink a=2": functools.partial(f1_shrunk, a=2.0),
    "shrink a=8": functools.partial(f1_shrunk, a=8.0),
    "support r=1": functools.partial(support_shrunk, rows=1.0),
    "support r=4": functools.partial(support_shrunk, rows=4.0),
}
DEFAULT = "raw F1 (default)"


def splits(name, seed):
    if name == "digits-LT":
        X, y = load_digits(return_X_y=True)
        X_tr, X_sel, y_tr, y_sel = train_test_split(
            X, y, test_size=0.5, stratify=y, random_state=seed
        )
        X_tr, y_tr = make_long_tailed(
            X_tr, y_tr, imbalance_factor=0.03, random_state=seed
        )
    else:
        fetch = {
            "yeast": fetch_yeast,
            "wine": fetch_wine_quality,
            "glass": fetch_glass,
        }[name]
        X, y = fetch(data_home=DATA, return_X_y=True, download_if_missing=False)
        X_tr, X_sel, y_tr, y_sel = train_test_split(
            X, y, test_size=0.3, stratify=y, random_state=seed
        )
    scaler = StandardScaler().fit(X_tr)
    return scaler.transform(X_tr), scaler.transform(X_sel), y_tr, y_sel


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--out", default="study_min_support.csv")
    parser.add_argument(
        "--binary",
        action="store_true",
        help="the 22 binary imbalanced-learn sets (at most 2000 rows, the splits of "
        "study_early_stopping.py) instead of the multi-class ones",
    )
    parser.add_argument(
        "--policies", default=None, help="comma list (default: all of POLICIES)"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = []
    names, policies = ("digits-LT", "yeast", "wine", "glass"), POLICIES
    if args.binary:
        names = sorted(IMBLEARN_BENCHMARK_FILES)
    if args.policies:
        policies = {k: POLICIES[k] for k in args.policies.split(",")}
    for name in names:
        for seed in range(args.seeds):
            if args.binary:
                X_tr, X_sel, y_tr, y_sel = load(name, 2000, seed)
            else:
                X_tr, X_sel, y_tr, y_sel = splits(name, seed)
            for policy, metric in policies.items():
                art = metric is not None
                clf = ARTClassifier(art=art, metric=metric or "f1", random_state=seed)
                clf.fit(X_tr, y_tr)
                share = np.max(clf.history_[:, "p"], axis=1).mean() if art else np.nan
                rows.append(
                    {
                        "data": name,
                        "seed": seed,
                        "policy": policy,
                        "macro_f1": f1_score(
                            y_sel, clf.predict(X_sel), average="macro"
                        ),
                        "max_share": share,
                    }
                )
            print(name, seed, flush=True)
    df = pd.DataFrame(rows)
    df.to_csv(args.out, index=False)
    summarize(df)


def summarize(df):
    """Mean macro-F1 per data set and policy; paired Wilcoxon against the default."""
    policies = [p for p in POLICIES if p in set(df.policy)]
    means = df.pivot_table(index="data", columns="policy", values="macro_f1")
    share = df.pivot_table(index="data", columns="policy", values="max_share")
    print(means[policies].round(3).to_markdown())
    print(share[[p for p in policies if p != "baseline"]].round(3).to_markdown())
    wide = df.pivot_table(index=["data", "seed"], columns="policy", values="macro_f1")
    for policy in policies[policies.index(DEFAULT) + 1 :]:
        diff = wide[policy] - wide[DEFAULT]
        print(
            f"{policy} - default: {100 * diff.mean():+.2f} points over "
            f"{len(diff)} (data, seed) pairs, wins {int((diff > 0).sum())}, "
            f"losses {int((diff < 0).sum())}, Wilcoxon p = "
            f"{wilcoxon(diff).pvalue if np.any(diff != 0) else 1.0:.3f}"
        )


if __name__ == "__main__":
    main()
