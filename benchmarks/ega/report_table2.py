"""Tables of ``run_table2.py``'s results next to the paper's, with paired tests.

Per set: mean and std of AUC-PR over the folds that ran, for every method,
the paper's number beside ours, and a paired t-test of EGA against CE over
the folds (4 folds: a Wilcoxon test cannot go below p = 0.125). Over sets: a
Wilcoxon signed-rank test of EGA's per-set means against each baseline's,
the number of sets EGA wins, the mean rank (1 = best; ties share the mean
rank) and the median std per method.

Run: ``python benchmarks/ega/report_table2.py > docs/benchmarks_ega_tables.md``
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import rankdata, ttest_rel, wilcoxon

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from paper_numbers import PAPER  # noqa: E402

ORDER = ["CE", "ROS", "SMOTE", "Focal", "LDAM", "EGA-0", "EGA"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--results", default=str(HERE / "results_table2.jsonl"))
    args = parser.parse_args()
    rows = [json.loads(line) for line in Path(args.results).read_text().splitlines()]
    df = pd.DataFrame(rows)
    extra = df[df["method"] == "EGA+ART"]
    df = df[df["method"] != "EGA+ART"]
    # Sets and folds where every method ran, so that all comparisons are paired.
    complete = df.groupby(["set", "fold"])["method"].nunique() == len(ORDER)
    keep = complete[complete].index
    df = df.set_index(["set", "fold"]).loc[keep].reset_index()
    sets = [s for s in PAPER if s in set(df["set"])]
    wide = df.pivot_table(index=["set", "fold"], columns="method", values="auc_pr")
    mean = wide.groupby("set").mean().loc[sets, ORDER]
    std = wide.groupby("set").std(ddof=1).loc[sets, ORDER]
    folds = wide.groupby("set").size().loc[sets]

    print("## AUC-PR per set: ours (mean ± std over folds) | paper\n")
    print("| set | folds | " + " | ".join(ORDER) + " | EGA − CE, paired t p |")
    print("|---|---|" + "---|" * len(ORDER) + "---|")
    for s in sets:
        cells = []
        for m in ORDER:
            paper = PAPER[s].get(m)
            ref = f" ({paper[0]:.2f}±{paper[1]:.2f})" if paper else ""
            cells.append(f"{mean.loc[s, m]:.3f}±{std.loc[s, m]:.3f}{ref}")
        w = wide.loc[s]
        diff = (w["EGA"] - w["CE"]).mean()
        p = ttest_rel(w["EGA"], w["CE"]).pvalue if folds[s] > 1 else np.nan
        print(
            f"| {s} | {folds[s]} | " + " | ".join(cells) + f" | {diff:+.3f}, {p:.2f} |"
        )
    print(
        "\nIn parentheses: the paper's Table 2 (CE, ROS, SMOTE, EGA) and Table 3 "
        "(Focal, LDAM); the paper has no EGA-0 column.\n"
    )

    print("## Over sets\n")
    ranks = pd.DataFrame(
        [rankdata(-mean.loc[s].to_numpy()) for s in sets], index=sets, columns=ORDER
    )
    paper_mean = {
        m: np.mean([PAPER[s][m][0] for s in sets]) if m in PAPER[sets[0]] else np.nan
        for m in ORDER
    }
    print(
        "| method | mean AUC-PR | paper's mean (same sets) | mean rank | median std over folds | EGA wins / ties / losses | Wilcoxon p (EGA vs method) |"
    )
    print("|---|---|---|---|---|---|---|")
    for m in ORDER:
        if m == "EGA":
            wins, p = "", ""
        else:
            d = mean["EGA"] - mean[m]
            wins = (
                f"{(d > 1e-9).sum()} / {(d.abs() <= 1e-9).sum()} / {(d < -1e-9).sum()}"
            )
            p = (
                f"{wilcoxon(mean['EGA'], mean[m]).pvalue:.3f}"
                if (d != 0).any()
                else "n/a"
            )
        pm = "" if np.isnan(paper_mean[m]) else f"{paper_mean[m]:.3f}"
        print(
            f"| {m} | {mean[m].mean():.3f} | {pm} | {ranks[m].mean():.2f} | "
            f"{std[m].median():.3f} | {wins} | {p} |"
        )
    dist = df[df["method"] == "EGA"].groupby("set")["distance"].mean().loc[sets]
    print(
        f"\nEGA's points moved {dist.median():.4f} on average (median over sets of "
        f"the mean Euclidean distance from their starting copies, features in "
        f"[0, 1]; max {dist.max():.4f} on {dist.idxmax()}).\n"
    )
    if len(extra):
        ega = df[df["method"] == "EGA"].set_index(["set", "fold"])["auc_pr"]
        art = extra.set_index(["set", "fold"])["auc_pr"]
        both = pd.concat({"EGA": ega, "EGA+ART": art}, axis=1).dropna()
        per_set = both.groupby("set").mean()
        d = per_set["EGA+ART"] - per_set["EGA"]
        p = ttest_rel(both["EGA+ART"], both["EGA"]).pvalue
        print("## EGA with ART's sampler (art=True)\n")
        print("| set | folds | EGA | EGA+ART |")
        print("|---|---|---|---|")
        for s, r in per_set.iterrows():
            n = int((both.index.get_level_values(0) == s).sum())
            print(f"| {s} | {n} | {r['EGA']:.3f} | {r['EGA+ART']:.3f} |")
        print(
            f"\nEGA+ART − EGA: mean {d.mean():+.3f} over {len(d)} sets "
            f"({(d > 0).sum()} better, {(d < 0).sum()} worse); paired t over all "
            f"{len(both)} (set, fold) pairs p = {p:.2f}.\n"
        )
    subsampled = sorted(df[df["subsampled"]]["set"].unique())
    print(f"Subsampled (stratified, 2500 rows): {', '.join(subsampled)}.\n")
    print(
        f"Wall time of the fits (shared machine): {df['seconds'].sum() / 60:.1f} min."
    )


if __name__ == "__main__":
    main()
