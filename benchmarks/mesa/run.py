"""MESA paper, Tables 3 and 6, on the data we have offline (and a multi-class check).

Protocol (Liu et al., NeurIPS 2020, Sec. 4.2 / App. B): per run, a stratified
20 % validation set is held out; the remaining 80 % goes through 4-fold
stratified cross-validation (train 60 %, test 20 %). AUC-PR
(``average_precision_score``, minority class) on the test fold, decision-tree
members, ``n_estimators = k``. MESA uses the validation set for its state
(``X_val``); the baselines train on the training folds only, as in the paper.
One k=20 MESA fit gives k=5/10/20 exactly through ``staged_predict_proba``
(the cascade is sequential and draws its random numbers in order).

Methods: MESA with the shipped sampler (``pretrained``), with a sampler
meta-trained on this data set (``task``, the paper's setting: trained once per
data set on run 0's train/validation split), the random policy and random
sampling (Table 6), and imblearn's RUSBoost, UnderBagging
(BalancedBaggingClassifier) and EasyEnsemble.

    OMP_NUM_THREADS=1 python benchmarks/mesa/run.py --runs 10
    OMP_NUM_THREADS=1 python benchmarks/mesa/run.py --multiclass --runs 5
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from imblearn.ensemble import (
    BalancedBaggingClassifier,
    EasyEnsembleClassifier,
    RUSBoostClassifier,
)
from scipy.stats import ttest_rel, wilcoxon
from sklearn.metrics import average_precision_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.tree import DecisionTreeClassifier

from skart.ensemble import MESAClassifier, MetaSampler

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
OUT = Path(__file__).resolve().parents[2] / "docs" / "_static" / "benchmarks" / "mesa"
BINARY = ["optical_digits", "spectrometer", "mammography"]
KS = (5, 10, 20)
SEEDS = [1834, 8993, 412, 4523, 182, 41921, 53178, 4536, 89, 101172]


def load_binary(name):
    from skart.datasets import fetch_imblearn_benchmark

    return fetch_imblearn_benchmark(
        name, data_home=DATA, download_if_missing=False, return_X_y=True
    )


def load_multiclass(name):
    from skart.datasets import fetch_wine_quality, fetch_yeast

    fetch = {"yeast": fetch_yeast, "wine": fetch_wine_quality}[name]
    bunch = fetch(data_home=DATA, download_if_missing=False)
    X, y = np.asarray(bunch.data, dtype=np.float64), np.asarray(bunch.target)
    # classes with fewer than 10 rows cannot fill 4 folds plus validation
    keep = np.isin(y, [c for c, n in zip(*np.unique(y, return_counts=True)) if n >= 10])
    return X[keep], y[keep]


def score(y, proba, classes):
    if len(classes) == 2:
        return average_precision_score(y == classes[1], proba[:, 1])
    onehot = y[:, None] == classes[None, :]
    return average_precision_score(onehot, proba, average="macro")


def baselines(k, seed):
    dt = DecisionTreeClassifier()
    return {
        "RUSBoost": RUSBoostClassifier(dt, n_estimators=k, random_state=seed),
        "UnderBagging": BalancedBaggingClassifier(
            dt, n_estimators=k, random_state=seed
        ),
        "EasyEnsemble": EasyEnsembleClassifier(n_estimators=k, random_state=seed),
    }


def constant_policy(mu):
    """A policy that always answers ``mu``: zero weights, bias atanh(2 mu - 1), no noise."""
    weights = MetaSampler.random_weights(random_state=0)
    for key in weights:
        weights[key] = np.zeros_like(weights[key])
    weights["b_mean"][:] = np.arctanh(2 * mu - 1)
    weights["b_log_std"][:] = -20.0
    return MetaSampler(weights=weights)


def run_dataset(name, X, y, runs, ks, task_steps, constants=(), with_baselines=True):
    rows, timings = [], []
    kmax = max(ks)
    samplers = {"pretrained": "pretrained", "random": "random", "uniform": "uniform"}
    samplers.update({f"const{mu:g}": constant_policy(mu) for mu in constants})
    if task_steps:
        X_rest, X_val, y_rest, y_val = train_test_split(
            X, y, test_size=0.2, stratify=y, random_state=SEEDS[0]
        )
        tr = next(
            StratifiedKFold(4, shuffle=True, random_state=SEEDS[0]).split(
                X_rest, y_rest
            )
        )[0]
        sampler = MetaSampler(n_steps=task_steps, random_state=0)
        sampler.fit(X_rest[tr], y_rest[tr], X_val=X_val, y_val=y_val)
        timings.append(
            {
                "dataset": name,
                "what": "meta-training",
                "seconds": sampler.fit_time_,
                "steps": task_steps,
            }
        )
        samplers["task"] = MetaSampler(weights=sampler.weights_)
    for run in range(runs):
        seed = SEEDS[run]
        X_rest, X_val, y_rest, y_val = train_test_split(
            X, y, test_size=0.2, stratify=y, random_state=seed
        )
        folds = StratifiedKFold(4, shuffle=True, random_state=seed).split(
            X_rest, y_rest
        )
        for fold, (tr, te) in enumerate(folds):
            X_tr, y_tr, X_te, y_te = X_rest[tr], y_rest[tr], X_rest[te], y_rest[te]
            for label, ms in samplers.items():
                clf = MESAClassifier(
                    n_estimators=kmax, meta_sampler=ms, random_state=seed + fold
                )
                clf.fit(X_tr, y_tr, X_val=X_val, y_val=y_val)
                timings.append(
                    {
                        "dataset": name,
                        "what": f"MESA-{label} fit k={kmax}",
                        "seconds": clf.fit_time_,
                        "steps": kmax,
                    }
                )
                for t, proba in enumerate(clf.staged_predict_proba(X_te), start=1):
                    if t in ks:
                        rows.append(
                            (
                                name,
                                f"MESA-{label}",
                                t,
                                run,
                                fold,
                                score(y_te, proba, clf.classes_),
                            )
                        )
            for k in ks if with_baselines else ():
                for label, est in baselines(k, seed + fold).items():
                    start = time.perf_counter()
                    est.fit(X_tr, y_tr)
                    timings.append(
                        {
                            "dataset": name,
                            "what": f"{label} fit k={k}",
                            "seconds": time.perf_counter() - start,
                            "steps": k,
                        }
                    )
                    rows.append(
                        (
                            name,
                            label,
                            k,
                            run,
                            fold,
                            score(y_te, est.predict_proba(X_te), est.classes_),
                        )
                    )
    return rows, timings


def paired_tests(raw):
    """Paired tests of MESA variants: over the 40 (run, fold) pairs and the 10 run means."""
    out = []
    for (name, k), g in raw.groupby(["dataset", "k"]):
        piv = g.pivot_table(index=["run", "fold"], columns="method", values="aucpr")
        runs = piv.groupby(level="run").mean()
        pairs = [
            ("MESA-pretrained", "MESA-uniform"),
            ("MESA-task", "MESA-uniform"),
            ("MESA-pretrained", "MESA-random"),
            ("MESA-task", "MESA-random"),
            ("MESA-task", "MESA-pretrained"),
        ]
        pairs += [("MESA-pretrained", m) for m in piv if m.startswith("MESA-const")]
        for a, b in pairs:
            if a not in piv or b not in piv:
                continue
            d = piv[a] - piv[b]
            out.append(
                {
                    "dataset": name,
                    "k": k,
                    "a": a,
                    "b": b,
                    "mean_diff": d.mean(),
                    "wins": int((d > 0).sum()),
                    "losses": int((d < 0).sum()),
                    "n": len(d),
                    "wilcoxon_p": wilcoxon(piv[a], piv[b]).pvalue,
                    "ttest_p": ttest_rel(piv[a], piv[b]).pvalue,
                    "run_wins": int((runs[a] > runs[b]).sum()),
                    "n_runs": len(runs),
                    "wilcoxon_p_runs": wilcoxon(runs[a], runs[b]).pvalue,
                }
            )
    return pd.DataFrame(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--datasets", nargs="*", default=None)
    parser.add_argument("--ks", nargs="*", type=int, default=list(KS))
    parser.add_argument(
        "--task-steps",
        type=int,
        default=1500,
        help="meta-training steps per data set for MESA-task (0: skip)",
    )
    parser.add_argument("--multiclass", action="store_true")
    parser.add_argument(
        "--constant",
        nargs="*",
        type=float,
        default=[],
        help="also run MESA with a constant mu (a control: is the state used?)",
    )
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument("--tag", default=None, help="suffix of the output files")
    parser.add_argument(
        "--tests-only",
        action="store_true",
        help="recompute the tests from raw_<tag>.csv",
    )
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    tag = args.tag or ("multiclass" if args.multiclass else "binary")
    if args.tests_only:
        tests = paired_tests(pd.read_csv(args.out / f"raw_{tag}.csv"))
        tests.to_csv(args.out / f"tests_{tag}.csv", index=False)
        print(tests.round(4).to_string())
        return
    names = args.datasets or (["yeast", "wine"] if args.multiclass else BINARY)
    load = load_multiclass if args.multiclass else load_binary
    rows, timings = [], []
    start = time.perf_counter()
    for name in names:
        X, y = load(name)
        r, t = run_dataset(
            name,
            X,
            y,
            args.runs,
            args.ks,
            args.task_steps,
            args.constant,
            not args.no_baselines,
        )
        rows += r
        timings += t
        print(f"{name} done at {time.perf_counter() - start:.0f} s", flush=True)
    raw = pd.DataFrame(rows, columns=["dataset", "method", "k", "run", "fold", "aucpr"])
    raw.to_csv(args.out / f"raw_{tag}.csv", index=False)
    per_run = raw.groupby(["dataset", "method", "k", "run"]).aucpr.mean().reset_index()
    summary = (
        per_run.groupby(["dataset", "method", "k"])
        .aucpr.agg(["mean", "std"])
        .reset_index()
    )
    summary.to_csv(args.out / f"summary_{tag}.csv", index=False)
    tests = paired_tests(raw)
    tests.to_csv(args.out / f"tests_{tag}.csv", index=False)
    tim = (
        pd.DataFrame(timings)
        .groupby(["dataset", "what"])
        .seconds.agg(["mean", "count"])
    )
    tim.to_csv(args.out / f"timings_{tag}.csv")
    (args.out / f"run_{tag}.json").write_text(
        json.dumps(
            {
                "runs": args.runs,
                "ks": args.ks,
                "task_steps": args.task_steps,
                "datasets": names,
                "seeds": SEEDS[: args.runs],
                "seconds": time.perf_counter() - start,
            },
            indent=1,
        )
    )
    wide = summary.pivot_table(index=["dataset", "method"], columns="k", values="mean")
    print(wide.round(3).to_string())
    print(tests.round(4).to_string())
    print(tim.round(4).to_string())


if __name__ == "__main__":
    main()
