"""Summarise ``results/raw.csv`` of ``run.py`` into ``results/summary.md``.

Per augmentation, method and decision: mean and standard deviation over the
seeds of the test macro-F1 and worst-class recall. Paired tests across seeds
(the same seed gives every method the same split and initial weights):

- each method and decision against ``plain/tuned`` (the network with tuned
  logit offsets, the threshold-moving baseline), within each augmentation;
- augmentation against none, for each method and decision.

Each test gives the mean paired difference and the two-sided p-values of
the paired t-test and of the Wilcoxon signed-rank test (exact: with n seeds
its smallest possible p is 2 / 2**n, 0.0625 for 5 seeds, so 5 cannot reach
0.05), and the number of seeds the first arm wins. Only seeds present in
both arms are paired. The ART paper's MNIST-LT numbers are put
beside ours::

    python -m benchmarks.images.summarize
    python -m benchmarks.images.summarize --raw results/raw.csv --out results/summary.md
"""

import argparse
import csv
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy.stats import ttest_rel, wilcoxon

RESULTS = Path(__file__).parent / "results"
METRICS = ("macro_f1", "worst_recall")
BASELINE = ("plain", "tuned")

# The ART paper (Basandrai et al., arXiv:2509.00955), MNIST-LT column:
# Table 1 (macro-F1, mean +- std over 20 seeds) and Table A.5 (p-values of
# ART against each, paired t-test / Wilcoxon).
PAPER = [
    ("Baseline", "0.8736 ± 0.0470", "0.1851 / 0.3683"),
    ("ROS", "0.8792 ± 0.0407", "0.4923 / 0.5706"),
    ("RUS", "0.6714 ± 0.0368", "0.0000 / 0.0000"),
    ("Cost-sensitive", "0.8808 ± 0.0468", "0.7052 / 0.8695"),
    ("Focal loss", "0.8716 ± 0.0344", "0.0874 / 0.0825"),
    ("OHEM", "0.8879 ± 0.0393", "—"),
    ("LDAM+DRW", "0.8464 ± 0.0588", "0.0058 / 0.0073"),
    ("BALMS", "0.8837 ± 0.0315", "0.8970 / 0.9854"),
    ("ART", "0.8848 ± 0.0359", ""),
]


def load(path):
    """rows[(augment, method, decision)][seed] = {metric: value}"""
    rows = defaultdict(dict)
    with open(path) as f:
        for row in csv.DictReader(f):
            key = (row["augment"], row["method"], row["decision"])
            rows[key][int(row["seed"])] = {
                **{m: float(row[m]) for m in METRICS},
                "fit_seconds": float(row["fit_seconds"]),
                "epochs": int(row["epochs"]),
            }
    return rows


def paired(a, b, metric):
    """Mean of a - b over the shared seeds, paired-t p, Wilcoxon p, n, wins of a."""
    seeds = sorted(set(a) & set(b))
    x = np.array([a[s][metric] for s in seeds])
    z = np.array([b[s][metric] for s in seeds])
    d = x - z
    wins = int(np.sum(d > 0))
    if len(seeds) < 2 or not np.any(d):
        return d.mean() if len(d) else np.nan, np.nan, np.nan, len(seeds), wins
    t_p = ttest_rel(x, z).pvalue
    w_p = wilcoxon(x, z).pvalue
    return d.mean(), t_p, w_p, len(seeds), wins


def fmt_p(p):
    if np.isnan(p):
        return "—"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def paired_table(rows, base_of):
    """Markdown rows: each run against its baseline run, paired by seed.

    ``base_of(key)`` gives the baseline's key, or None for a run that has
    none; a run whose baseline did not run is left out.
    """
    lines = [
        "| augment | method | decision | n | Δ macro-F1 | wins | p (t / W) "
        "| Δ worst recall | wins | p (t / W) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key in sorted(rows):
        base = base_of(key)
        if base is None or base not in rows:
            continue
        cells = []
        for m in METRICS:
            d, tp, wp, n, wins = paired(rows[key], rows[base], m)
            cells.append(f"{d:+.4f} | {wins}/{n} | {fmt_p(tp)} / {fmt_p(wp)}")
        lines.append(
            f"| {key[0]} | {key[1]} | {key[2]} | {n} | " + " | ".join(cells) + " |"
        )
    return lines


def summarize(rows):
    lines = ["# MNIST-LT from a PNG folder: results", ""]
    lines.append(
        "Written by `python -m benchmarks.images.summarize` from `raw.csv` "
        "(`python -m benchmarks.images.run`). Test set: the balanced MNIST "
        "test folder (10,000 images). Mean ± std over seeds; `n` seeds."
    )
    lines += ["", "## Scores", ""]
    lines.append(
        "| augment | method | decision | n | macro-F1 | worst-class recall | fit s |"
    )
    lines.append("|---|---|---|---|---|---|---|")
    for key in sorted(rows):
        seeds = rows[key]
        vals = {m: np.array([v[m] for v in seeds.values()]) for m in METRICS}
        secs = np.mean([v["fit_seconds"] for v in seeds.values()])
        lines.append(
            f"| {key[0]} | {key[1]} | {key[2]} | {len(seeds)} | "
            + " | ".join(
                f"{vals[m].mean():.4f} ± {vals[m].std(ddof=1) if len(seeds) > 1 else 0:.4f}"
                for m in METRICS
            )
            + f" | {secs:.0f} |"
        )
    lines += [
        "",
        "## Against the threshold-moving baseline (plain net, tuned offsets)",
        "",
    ]
    lines.append(
        "Difference = method − plain/tuned, paired by seed; p: paired t-test / "
        "Wilcoxon signed-rank (two-sided); wins: "
        "seeds where the method is above."
    )
    lines.append("")
    # Each method and decision against the plain net with tuned offsets, on
    # the same augmentation.
    lines += paired_table(
        rows, lambda key: None if key[1:] == BASELINE else (key[0], *BASELINE)
    )
    lines += ["", "## Augmentation against none", ""]
    lines.append(
        "Difference = with augmentation − without, same method, decision and seed."
    )
    lines.append("")
    lines += paired_table(
        rows, lambda key: None if key[0] == "none" else ("none", *key[1:])
    )
    lines += [
        "",
        "## The ART paper's MNIST-LT numbers (for comparison, not reproduced)",
        "",
    ]
    lines.append(
        "Basandrai et al., arXiv:2509.00955, Table 1 (macro-F1, 20 seeds) and "
        "Table A.5 (p of ART against each, paired t / Wilcoxon). Their test set "
        "is 15% of MNIST-LT itself (long-tailed, about 560 images, so 2-3 test "
        "images of the rarest digit), after Optuna tuning of each method; ours "
        "is the balanced 10,000-image MNIST test set with fixed settings."
    )
    lines.append("")
    lines.append("| method | macro-F1 | p vs ART (t / W) |")
    lines.append("|---|---|---|")
    lines += [f"| {name} | {f1} | {p} |" for name, f1, p in PAPER]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--raw", default=str(RESULTS / "raw.csv"))
    parser.add_argument("--out", default=str(RESULTS / "summary.md"))
    args = parser.parse_args(argv)
    text = summarize(load(args.raw))
    with open(args.out, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
