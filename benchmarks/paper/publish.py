"""Publish issue 11's runs into docs/_static/benchmarks (the files docs/benchmarks.md cites).

Reads the result folders of the runs named in docs/benchmarks.md under
benchmarks/results/ (imblearn22, imblearn22_smooth, paper_tuned, mnist20,
threshold10) and writes the raw rows, summaries, tests, figures and the
side-by-side table with the paper. Rows that earlier code wrote as "ART" /
"ART+threshold", before ART's ``smooth`` existed, are renamed "ART (smooth=0)" /
"ART+threshold (smooth=0)", which is what they are; run_*.json say so::

    python -m benchmarks.paper.publish
"""

import json
from pathlib import Path

import pandas as pd

from benchmarks.paper.compare import side_by_side
from benchmarks.paper.protocol import SEEDS
from benchmarks.paper.run import write_summary

ROOT = Path(__file__).resolve().parents[2]
R = ROOT / "benchmarks" / "results"
D = ROOT / "docs" / "_static" / "benchmarks"
RELABEL = {"ART": "ART (smooth=0)", "ART+threshold": "ART+threshold (smooth=0)"}


def relabel(df):
    df = df.copy()
    df["method"] = df["method"].replace(RELABEL)
    return df


def main():
    # 1. the 22 binary sets
    old = relabel(pd.read_csv(R / "imblearn22/raw_default.csv"))
    new = pd.read_csv(R / "imblearn22_smooth/raw_default.csv")
    df = pd.concat([old, new], ignore_index=True)
    out = D / "imblearn22"
    out.mkdir(exist_ok=True)
    df.to_csv(out / "raw_default.csv", index=False)
    main = df
    meta = json.loads((R / "imblearn22/run_default.json").read_text())
    meta["notes"] = meta.get("notes", []) + [
        "Rows named 'ART (smooth=0)' and 'ART+threshold (smooth=0)' were run as 'ART' and "
        "'ART+threshold' at commit f16372b, before ART's smooth parameter existed (raw class "
        "scores, i.e. smooth=0); 'ART' and 'ART+threshold' rows were run with smooth=1 at the "
        "commit in run_smooth.json. Baseline+TTCV ran in two invocations (first 3 seeds on all sets, then the rest).",
    ]
    (out / "run_smooth.json").write_text(
        (R / "imblearn22_smooth/run_default.json").read_text()
    )
    write_summary(main, out, "default", meta)
    # 2. the paper's protocol: tuned tabular (20 seeds) and MNIST-LT, untuned
    tuned = pd.concat(  # + ART with smooth=1, tuned the same way in its own run
        [
            relabel(pd.read_csv(R / "paper_tuned/raw_tuned.csv")),
            pd.read_csv(R / "paper_tuned_smooth/raw_tuned.csv"),
        ],
        ignore_index=True,
    )
    out = D / "paper_tuned"
    out.mkdir(exist_ok=True)
    tuned.to_csv(out / "raw_tuned.csv", index=False)
    meta = json.loads((R / "paper_tuned/run_tuned.json").read_text())
    meta["notes"] = meta.get("notes", []) + [
        "'ART (smooth=0)' rows were run as 'ART' (before smooth existed, raw class scores); "
        "'ART+threshold (smooth=0)' likewise: the run that added the threshold rows started "
        "on code without smooth. Tuned hyperparameters in best_params_tuned.json under the "
        "old names. 'ART' rows (smooth=1) come from a separate tuned run, "
        "benchmarks/results/paper_tuned_smooth, with its own tuning "
        "(best_params_tuned_smooth.json)."
    ]
    for name, run in (
        ("best_params_tuned.json", "paper_tuned"),
        ("best_params_tuned_smooth.json", "paper_tuned_smooth"),
    ):
        (out / name).write_text((R / run / "best_params_tuned.json").read_text())
    write_summary(tuned, out, "tuned", meta, reference="ART (smooth=0)")
    mn = pd.read_csv(R / "mnist20/raw_default.csv")
    out = D / "paper_mnist_lt"
    out.mkdir(exist_ok=True)
    mn.to_csv(out / "raw_default.csv", index=False)
    write_summary(
        mn, out, "default", json.loads((R / "mnist20/run_default.json").read_text())
    )
    thr = pd.read_csv(R / "threshold10/raw_default.csv")
    out = D / "threshold"
    thr.to_csv(out / "raw_default.csv", index=False)
    write_summary(
        thr,
        out,
        "default",
        json.loads((R / "threshold10/run_default.json").read_text()),
    )
    # IMDb-Custom: the tuned 20-seed run (ART there is the current rule, smooth=1)
    imdb = pd.read_csv(R / "imdb20/raw_tuned.csv")
    out = D / "imdb20"
    out.mkdir(exist_ok=True)
    imdb.to_csv(out / "raw_tuned.csv", index=False)
    (out / "best_params_tuned.json").write_text(
        (R / "imdb20/best_params_tuned.json").read_text()
    )
    write_summary(
        imdb, out, "tuned", json.loads((R / "imdb20/run_tuned.json").read_text())
    )
    mn10 = mn[
        (mn.method != "ART") & mn.seed.isin(SEEDS[:10])
    ]  # every row on the same 10 seeds
    both = pd.concat([tuned, mn10, imdb], ignore_index=True)
    table = side_by_side(both, ["ART (smooth=0)", "ART"])
    (D / "side_by_side.md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
