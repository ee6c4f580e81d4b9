"""Does the shipped (decision-tree-trained) meta-sampler help other members?

The paper never shows transfer across learner types. Same protocol as
``run.py`` (60/20/20, 4 folds, seeds from ``run.SEEDS``), test AUC-PR, MESA with
the shipped sampler against the uniform cascade, with k-nearest neighbours,
Gaussian naive Bayes, a small ``ARTClassifier`` network or decision trees as
members. Networks are slow, so ``--runs``/``--folds`` bound the work.

    OMP_NUM_THREADS=1 python benchmarks/mesa/members.py --members knn gnb --runs 10
    OMP_NUM_THREADS=1 python benchmarks/mesa/members.py --members art --runs 3 --folds 1
"""

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from run import OUT, SEEDS, load_binary, score
from scipy.stats import wilcoxon
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from skart import ARTClassifier
from skart.ensemble import MESAClassifier

MEMBERS = {
    "dt": lambda: DecisionTreeClassifier(),
    "knn": lambda: make_pipeline(StandardScaler(), KNeighborsClassifier()),
    "gnb": lambda: GaussianNB(),
    "art": lambda: make_pipeline(
        StandardScaler(), ARTClassifier(max_epochs=30, batch_size=64, random_state=0)
    ),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", nargs="+", default=["knn", "gnb"])
    parser.add_argument("--datasets", nargs="+", default=["mammography"])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = []
    for name in args.datasets:
        X, y = load_binary(name)
        for run in range(args.runs):
            seed = SEEDS[run]
            X_rest, X_val, y_rest, y_val = train_test_split(
                X, y, test_size=0.2, stratify=y, random_state=seed
            )
            cv = StratifiedKFold(4, shuffle=True, random_state=seed)
            for fold, (tr, te) in enumerate(cv.split(X_rest, y_rest)):
                if fold >= args.folds:
                    break
                for member in args.members:
                    for ms in ("pretrained", "uniform"):
                        clf = MESAClassifier(
                            MEMBERS[member](),
                            n_estimators=args.k,
                            meta_sampler=ms,
                            random_state=seed + fold,
                        )
                        clf.fit(X_rest[tr], y_rest[tr], X_val=X_val, y_val=y_val)
                        proba = clf.predict_proba(X_rest[te])
                        rows.append(
                            (
                                name,
                                member,
                                ms,
                                run,
                                fold,
                                score(y_rest[te], proba, clf.classes_),
                                clf.fit_time_,
                                float(np.mean(clf.actions_)),
                            )
                        )
            print(f"{name} run {run} done", flush=True)
    raw = pd.DataFrame(
        rows,
        columns=[
            "dataset",
            "member",
            "sampler",
            "run",
            "fold",
            "aucpr",
            "fit_s",
            "mean_mu",
        ],
    )
    tag = "_".join(args.members)
    raw.to_csv(args.out / f"raw_members_{tag}.csv", index=False)
    out = []
    for (name, member), g in raw.groupby(["dataset", "member"]):
        piv = g.pivot_table(index=["run", "fold"], columns="sampler", values="aucpr")
        runs = piv.groupby(level="run").mean()
        d = piv["pretrained"] - piv["uniform"]
        out.append(
            {
                "dataset": name,
                "member": member,
                "k": args.k,
                "pretrained": runs["pretrained"].mean(),
                "uniform": runs["uniform"].mean(),
                "mean_diff": d.mean(),
                "wins": int((d > 0).sum()),
                "n": len(d),
                "wilcoxon_p": wilcoxon(piv["pretrained"], piv["uniform"]).pvalue
                if len(d) > 1
                else float("nan"),
                "mean_mu": g[g.sampler == "pretrained"].mean_mu.mean(),
                "fit_s_pretrained": g[g.sampler == "pretrained"].fit_s.mean(),
            }
        )
    summary = pd.DataFrame(out)
    summary.to_csv(args.out / f"members_{tag}.csv", index=False)
    print(summary.round(4).to_string())


if __name__ == "__main__":
    main()
