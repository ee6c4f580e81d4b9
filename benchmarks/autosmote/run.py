"""AutoSMOTE benchmark: AutoSMOTEClassifier against the same MLP with and without resampling.

One process, one thread. For every seed and data set: a stratified 75/25
train/test split (seeded), features standardised on the training part, then
15% of each class of the training part held out as the validation fold that
every method gets as ``X_val`` (early stopping is off; ART scores it and the
tuned threshold is chosen on it). Every method trains the same MLP
(skart.MLP, (64, 64), dropout 0.1) with the same optimiser, learning rate,
epochs and batch size. Rows are appended to ``<out>/raw.csv`` as they finish,
seed-major, so a cut run keeps every set for the seeds it reached.

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 python benchmarks/autosmote/run.py main --seeds 10
    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 python benchmarks/autosmote/run.py sensitivity --seeds 3
    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 python benchmarks/autosmote/run.py sensitivity --seeds 3 --objective bilevel
    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 python benchmarks/autosmote/run.py ablation --seeds 5
    python benchmarks/autosmote/run.py summary
"""

import argparse
import csv
import functools
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from imblearn.over_sampling import ADASYN, SMOTE, BorderlineSMOTE
from imblearn.pipeline import Pipeline
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skart import ARTClassifier, AutoSMOTEClassifier
from skart._validation import stratified_split
from skart.datasets import (
    fetch_glass,
    fetch_imblearn_benchmark,
    fetch_wine_quality,
    fetch_yeast,
)

DATA_HOME = "/work/shared/data"
OUT = Path(__file__).resolve().parent / "results"
BINARY = ["ecoli", "yeast_me2", "libras_move", "oil"]
MULTI = {"glass": fetch_glass, "yeast": fetch_yeast, "wine_quality": fetch_wine_quality}
# One training configuration for every method (see the module docstring).
TRAIN = dict(
    optimizer=torch.optim.Adam,
    lr=0.01,
    max_epochs=60,
    batch_size=64,
    patience=None,
    lr_schedule=None,
)


def load(name):
    if name in MULTI:
        X, y = MULTI[name](
            data_home=DATA_HOME, download_if_missing=False, return_X_y=True
        )
    else:
        X, y = fetch_imblearn_benchmark(
            name, data_home=DATA_HOME, download_if_missing=False, return_X_y=True
        )
    X = np.asarray(X, dtype=np.float64)
    return X, np.unique(np.asarray(y), return_inverse=True)[1]


def minority_classes(y):
    """Classes with fewer training rows than the mean count (binary: class 1)."""
    counts = np.bincount(y)
    if len(counts) == 2:
        return [int(np.argmin(counts))]
    return [int(c) for c in np.flatnonzero(counts < counts.mean())]


def samplers(y, seed):
    k = int(min(5, np.bincount(y).min() - 1))
    return {
        "SMOTE": SMOTE(k_neighbors=k, random_state=seed),
        "BorderlineSMOTE": BorderlineSMOTE(k_neighbors=k, random_state=seed),
        "ADASYN": ADASYN(n_neighbors=k, random_state=seed),
    }


def methods(y_tr, seed, extra=None):
    """name -> (estimator, fit kwargs builder)."""
    mlp = dict(**TRAIN, random_state=seed)
    out = {
        "MLP": ARTClassifier(art=False, **mlp),
        "ART": ARTClassifier(art=True, **mlp),
        "AutoSMOTE-cohort": AutoSMOTEClassifier(
            variant="cohort", objective="joint", **mlp
        ),
        "AutoSMOTE-self": AutoSMOTEClassifier(variant="self", objective="joint", **mlp),
    }
    for name, sampler in samplers(y_tr, seed).items():
        out[f"MLP+{name}"] = Pipeline(
            [("sampler", sampler), ("clf", ARTClassifier(art=False, **mlp))]
        )
    out.update(extra or {})
    return out


def fit(est, X, y, X_val, y_val):
    if isinstance(est, Pipeline):
        return est.fit(X, y, clf__X_val=X_val, clf__y_val=y_val)
    return est.fit(X, y, X_val=X_val, y_val=y_val)


def scores(y_true, y_pred, minority):
    per_class = f1_score(
        y_true,
        y_pred,
        average=None,
        labels=np.arange(y_true.max() + 1),
        zero_division=0,
    )
    return float(per_class.mean()), float(per_class[minority].mean())


def split(X, y, seed):
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=seed
    )
    scaler = StandardScaler().fit(X_tr)
    X_tr, X_te = scaler.transform(X_tr), scaler.transform(X_te)
    tr, va = stratified_split(y_tr, 0.15, np.random.RandomState(seed))
    return X_tr[tr], y_tr[tr], X_tr[va], y_tr[va], X_te, y_te


def run(sets, seeds, out, configs):
    out.mkdir(parents=True, exist_ok=True)
    path = out / "raw.csv"
    new = not path.exists()
    with path.open("a", newline="") as fh:
        writer = csv.writer(fh)
        if new:
            writer.writerow(
                ["set", "seed", "method", "macro_f1", "minority_f1", "fit_s", "note"]
            )
        for seed in seeds:
            for name in sets:
                X, y = load(name)
                X_tr, y_tr, X_va, y_va, X_te, y_te = split(X, y, seed)
                minority = minority_classes(y_tr)
                for method, est in configs(y_tr, seed).items():
                    t = time.perf_counter()
                    note = ""
                    try:
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            fit(est, X_tr, y_tr, X_va, y_va)
                        y_pred = est.predict(X_te)
                    except (ValueError, RuntimeError) as error:
                        # A sampler that cannot run on this split (e.g. ADASYN
                        # finding no hard row) is reported, not hidden.
                        note = f"failed: {type(error).__name__}: {error}"[:200]
                        writer.writerow([name, seed, method, "", "", "", note])
                        fh.flush()
                        continue
                    elapsed = time.perf_counter() - t
                    macro, mino = scores(y_te, y_pred, minority)
                    writer.writerow(
                        [name, seed, method, macro, mino, round(elapsed, 2), note]
                    )
                    if method == "MLP" and len(np.unique(y)) == 2:
                        # Tuned threshold: the MLP's, chosen on the validation fold.
                        p_va = est.predict_proba(X_va)[:, 1]
                        grid = np.unique(np.r_[p_va, 0.5])
                        f1s = [
                            f1_score(y_va, p_va >= t_, zero_division=0) for t_ in grid
                        ]
                        thr = grid[int(np.argmax(f1s))]
                        y_thr = (est.predict_proba(X_te)[:, 1] >= thr).astype(int)
                        macro, mino = scores(y_te, y_thr, minority)
                        writer.writerow(
                            [
                                name,
                                seed,
                                "MLP+threshold",
                                macro,
                                mino,
                                round(elapsed, 2),
                                f"thr={thr:.3f}",
                            ]
                        )
                    fh.flush()


def sensitivity_configs(y_tr, seed, objective="joint"):
    mlp = dict(**TRAIN, random_state=seed)
    out = {}
    for tau in (0.1, 0.5, 1.0, 2.0, 5.0):
        out[f"tau={tau}"] = AutoSMOTEClassifier(
            variant="cohort", temperature=tau, objective=objective, **mlp
        )
    for g in range(1, 8):
        out[f"cohorts={g}"] = AutoSMOTEClassifier(
            variant="cohort", n_cohorts=g, objective=objective, **mlp
        )
    return out


def ablation_configs(y_tr, seed):
    mlp = dict(**TRAIN, random_state=seed)
    no_sum = ("linear", "min", "max", "average", "weighted")
    return {
        "AutoSMOTE-cohort-no-sum": AutoSMOTEClassifier(
            variant="cohort", aggregations=no_sum, objective="joint", **mlp
        ),
        "AutoSMOTE-cohort-bilevel": AutoSMOTEClassifier(
            variant="cohort", objective="bilevel", **mlp
        ),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["main", "sensitivity", "ablation", "summary"])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--sets", nargs="*", default=None)
    parser.add_argument("--objective", default="joint", choices=["joint", "bilevel"])
    args = parser.parse_args()
    torch.set_num_threads(1)
    seeds = range(args.first_seed, args.seeds)
    if args.mode == "main":
        sets = args.sets or [*MULTI, *BINARY]
        run(sets, seeds, OUT / "main", methods)
    elif args.mode == "sensitivity":
        folder = "sensitivity" if args.objective == "joint" else "sensitivity_bilevel"
        configs = functools.partial(sensitivity_configs, objective=args.objective)
        run(args.sets or ["glass"], seeds, OUT / folder, configs)
    elif args.mode == "ablation":
        sets = args.sets or [*MULTI, *BINARY]
        run(sets, seeds, OUT / "ablation", ablation_configs)
    else:
        from summary import summarise

        summarise(OUT)


if __name__ == "__main__":
    main()
