"""Validation study: should ART trust the F1 of a class with very few validation rows?

ART scores each class on its validation fold. A class with one or two validation
rows gets an F1 of 0 or 1 on a coin flip of the model's guess, and a 0 keeps it at
the maximum sampling weight. This study compares treating classes with fewer than
``m`` validation rows as unscored (neutral weight) for m = 1 (skart's default: only
classes with no row are unscored), 2, 3 and 5, with the baseline for reference.

The measure is macro-F1 on a *selection* split that neither training nor ART's
validation fold sees; no test split is touched. Data: long-tailed digits (balanced
selection split), Yeast and red Wine Quality (stratified 70/30), from the offline
copies in ../shared/data (or SKART_DATA). One torch thread::

    python benchmarks/study_min_support.py --seeds 10
"""

import argparse
import functools
import os
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skart import ARTClassifier
from skart.datasets import fetch_wine_quality, fetch_yeast, make_long_tailed

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
        fetch = {"yeast": fetch_yeast, "wine": fetch_wine_quality}[name]
        X, y = fetch(data_home=DATA, return_X_y=True, download_if_missing=False)
        X_tr, X_sel, y_tr, y_sel = train_test_split(
            X, y, test_size=0.3, stratify=y, random_state=seed
        )
    scaler = StandardScaler().fit(X_tr)
    return scaler.transform(X_tr), scaler.transform(X_sel), y_tr, y_sel


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(1)
    policies = {"baseline": None, "m=1 (default)": 1, "m=2": 2, "m=3": 3, "m=5": 5}
    print("| data | " + " | ".join(policies) + " |\n|---|" + "---|" * len(policies))
    for name in ("digits-LT", "yeast", "wine"):
        res = {p: [] for p in policies}
        for seed in range(args.seeds):
            X_tr, X_sel, y_tr, y_sel = splits(name, seed)
            for policy, m in policies.items():
                metric = (
                    "f1" if m in (None, 1) else functools.partial(f1_min_support, m=m)
                )
                clf = ARTClassifier(art=m is not None, metric=metric, random_state=seed)
                res[policy].append(
                    f1_score(y_sel, clf.fit(X_tr, y_tr).predict(X_sel), average="macro")
                )
        ref = np.array(res["m=1 (default)"])
        cells = []
        for policy, vals in res.items():
            vals = np.array(vals)
            wins = int(np.sum(vals > ref)) if policy != "m=1 (default)" else "-"
            cells.append(f"{vals.mean():.3f} ± {vals.std():.3f} (>{wins})")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
