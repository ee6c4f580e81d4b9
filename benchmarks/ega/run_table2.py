"""Table 2 (and Table 3's Focal/LDAM columns) of the EGA paper on the offline sets.

Protocol (paper section 6): min-max scaling to [0, 1], 4 stratified splits
with 20 % test, 20 % of the rest as validation (60/20/20), AUC-PR on the test
split (scikit-learn's ``average_precision_score``). Every method trains the
same network (MLP [128, 16], ReLU, no dropout; Adam lr 1e-3, betas (0.5,
0.999), batch 128) on the same split, and keeps its epoch of best validation
AP:

* CE: ``EGAClassifier(max_epochs=0)``, i.e. EGA's phase 1 alone;
* ROS / SMOTE: the same on the training split plus one copy / one SMOTE point
  per minority row (as many synthetic points as EGA has);
* Focal / LDAM: the same with ``skart.losses.FocalLoss(gamma=2)`` /
  ``LDAMLoss(max_margin=0.5, scale=1)``;
* EGA: phase 1 as CE, then ``max_epochs`` meta epochs (eta1 = 1e-2,
  eta2 = 10, one copy of the minority);
* EGA-0: the same with eta2 = 0 (the minority duplicated, points fixed): the
  control that isolates moving the points;
* EGA+ART (not in the default list): EGA with ``art=True``, ART's sampler
  drawing the real batches of both phases.

The validation split is passed as ``X_val``; the scaler is fit on the
training and validation splits; the test split enters nothing but the score.
Results are appended to a JSON-lines file, one line per (set, fold, method),
so an interrupted run resumes where it stopped.

Run (one thread): ``OMP_NUM_THREADS=1 python benchmarks/ega/run_table2.py``
then ``python benchmarks/ega/report_table2.py``.
"""

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from imblearn.datasets import fetch_datasets
from imblearn.over_sampling import SMOTE, RandomOverSampler
from sklearn.metrics import average_precision_score
from sklearn.model_selection import StratifiedShuffleSplit, train_test_split
from sklearn.preprocessing import MinMaxScaler

from skart import EGAClassifier
from skart.losses import FocalLoss, LDAMLoss

sys.path.insert(0, str(Path(__file__).resolve().parent))
from paper_numbers import PAPER  # noqa: E402

HERE = Path(__file__).resolve().parent
DATA = Path(
    os.environ.get(
        "SKART_IMBLEARN_DATA",
        HERE.parents[2] / "shared" / "data" / "imblearn_benchmark",
    )
)
METHODS = ["CE", "ROS", "SMOTE", "Focal", "LDAM", "EGA", "EGA-0"]


def make_model(method, args, seed):
    common = dict(
        pretrain_epochs=args.pretrain_epochs,
        batch_size=128,
        random_state=seed,
    )
    if method in ("CE", "ROS", "SMOTE"):
        return EGAClassifier(max_epochs=0, **common)
    if method == "Focal":
        return EGAClassifier(
            max_epochs=0, criterion=FocalLoss, criterion__gamma=2.0, **common
        )
    if method == "LDAM":
        return EGAClassifier(
            max_epochs=0,
            criterion=LDAMLoss,
            criterion__max_margin=0.5,
            criterion__scale=1.0,
            **common,
        )
    eta2 = 0.0 if method == "EGA-0" else args.eta2
    return EGAClassifier(
        max_epochs=args.max_epochs,
        eta1=args.eta1,
        eta2=eta2,
        art=method == "EGA+ART",
        **common,
    )


def resample(method, X, y, seed):
    n_min = int((y == 1).sum())
    if method == "ROS":
        sampler = RandomOverSampler(sampling_strategy={1: 2 * n_min}, random_state=seed)
    elif method == "SMOTE":
        k = min(5, n_min - 1)
        sampler = SMOTE(
            sampling_strategy={1: 2 * n_min}, k_neighbors=k, random_state=seed
        )
    else:
        return X, y
    return sampler.fit_resample(X, y)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", nargs="*", default=None)
    parser.add_argument("--methods", nargs="*", default=METHODS)
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--max-rows", type=int, default=3000)
    parser.add_argument("--pretrain-epochs", type=int, default=100)
    parser.add_argument("--max-epochs", type=int, default=100)
    parser.add_argument("--eta1", type=float, default=1e-2)
    parser.add_argument("--eta2", type=float, default=10.0)
    parser.add_argument("--out", default=str(HERE / "results_table2.jsonl"))
    parser.add_argument(
        "--budget-cpu-s", type=float, default=None, help="stop after this CPU time"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=UserWarning)

    # The 22 of the 27 sets that are offline, in the package's order.
    names = [n for n in PAPER if args.sets is None or n in args.sets]
    datasets = fetch_datasets(
        data_home=str(DATA), filter_data=tuple(names), download_if_missing=False
    )
    names = [n for n in datasets]
    out = Path(args.out)
    done = set()
    if out.exists():
        for line in out.read_text().splitlines():
            r = json.loads(line)
            done.add((r["set"], r["fold"], r["method"]))
    start = time.process_time()
    for fold in range(args.folds):
        for name in names:
            X, y = datasets[name].data, datasets[name].target
            y = (y == 1).astype(np.int64)  # -1/1 -> 0/1, minority = 1
            subsampled = len(y) > args.max_rows
            if subsampled:
                X, _, y, _ = train_test_split(
                    X, y, train_size=args.max_rows, stratify=y, random_state=0
                )
            split = StratifiedShuffleSplit(
                n_splits=args.folds, test_size=0.2, random_state=0
            )
            fit_idx, test_idx = list(split.split(X, y))[fold]
            tr_idx, va_idx = train_test_split(
                fit_idx, test_size=0.25, stratify=y[fit_idx], random_state=fold
            )
            scaler = MinMaxScaler().fit(X[fit_idx])
            Xs = np.clip(scaler.transform(X), 0.0, 1.0)  # test rows outside the range
            for method in args.methods:
                if (name, fold, method) in done:
                    continue
                if (
                    args.budget_cpu_s
                    and time.process_time() - start > args.budget_cpu_s
                ):
                    print("budget spent; stopping", flush=True)
                    return
                t0 = time.perf_counter()
                X_tr, y_tr = resample(method, Xs[tr_idx], y[tr_idx], fold)
                clf = make_model(method, args, fold)
                clf.fit(X_tr, y_tr, X_val=Xs[va_idx], y_val=y[va_idx])
                proba = clf.predict_proba(Xs[test_idx])[:, 1]
                ap = float(average_precision_score(y[test_idx], proba))
                row = {
                    "set": name,
                    "fold": fold,
                    "method": method,
                    "auc_pr": ap,
                    "valid_ap": float(clf.history_[clf.best_epoch_ - 1, "valid_ap"]),
                    "best_epoch": int(clf.best_epoch_),
                    "n_rows": int(len(y)),
                    "subsampled": bool(subsampled),
                    "seconds": time.perf_counter() - t0,
                }
                if method.startswith("EGA"):
                    row["distance"] = float(
                        np.linalg.norm(
                            (clf.synthetic_X_ - clf.synthetic_init_X_).reshape(
                                len(clf.synthetic_X_), -1
                            ),
                            axis=1,
                        ).mean()
                    )
                with out.open("a") as f:
                    f.write(json.dumps(row) + "\n")
                print(
                    f"{name:16s} fold {fold} {method:6s} AUC-PR {ap:.3f} "
                    f"({row['seconds']:.1f} s)",
                    flush=True,
                )


if __name__ == "__main__":
    main()
