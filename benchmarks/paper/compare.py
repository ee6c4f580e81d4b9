"""Our Table 1 next to the paper's, row by row, with the Appendix A p-values.

The paper's numbers (Table 1, macro-F1 mean and std over its 20 seeds, and
Appendix A's paired t-test and Wilcoxon p-values of ART against each method)
are transcribed in ``paper_table1.csv`` from arXiv:2509.00955. Ours come from
the raw per-seed CSVs that ``benchmarks.paper.run`` writes::

    python -m benchmarks.paper.compare docs/_static/benchmarks/paper_tuned/raw_tuned.csv \\
        docs/_static/benchmarks/paper_mnist_lt/raw_default.csv --art "ART (smooth=0)"
"""

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from .stats import paired_tests

PAPER = Path(__file__).with_name("paper_table1.csv")
ORDER = ["Pima", "Yeast", "Wine", "MNIST-LT", "IMDb"]


def paper_table():
    """The paper's Table 1 and Appendix A as one long frame."""
    return pd.read_csv(PAPER)


def _paper_p(row):
    if row is None or not np.isfinite(row.wilcoxon_p):
        return "–"
    # the paper prints four decimals: 0.0000 means below 5e-5
    return "<5e-5" if row.wilcoxon_p == 0 else f"{row.wilcoxon_p:.2g}"


def side_by_side(df, art="ART"):
    """Markdown: ours (mean ± std) | paper, and ours | paper p-values.

    ``art`` names our row that stands for the paper's ART row (and is the
    reference of our paired tests); a list of names is tried in order on each
    data set, so runs of different ART rules can share one table.
    """
    prefer = [art] if isinstance(art, str) else list(art)
    present = set(zip(df.dataset, df.method))
    ref = {
        d: next((a for a in prefer if (d, a) in present), prefer[0])
        for d in set(df.dataset)
    }
    paper = paper_table()
    is_art = paper["method"] == "ART"
    paper.loc[is_art, "method"] = paper.loc[is_art, "dataset"].map(ref)
    paper = paper.dropna(subset=["method"]).set_index(["dataset", "method"])
    g = df.groupby(["dataset", "method"])["macro_f1"]
    ours = pd.DataFrame({"mean": g.mean(), "std": g.std(ddof=1), "n": g.size()})
    tests = pd.concat(
        [paired_tests(df[df.dataset == d], a) for d, a in ref.items()],
        ignore_index=True,
    ).set_index(["dataset", "method"])
    datasets = [d for d in ORDER if d in set(df.dataset)]
    methods = list(
        dict.fromkeys(list(paper.index.get_level_values(1)) + list(df.method))
    )
    head = " | ".join(f"{d}: ours | paper" for d in datasets)
    lines = [f"| method | {head} |", "|---" * (1 + 2 * len(datasets)) + "|"]
    for m in methods:
        cells = []
        for d in datasets:
            o = ours.loc[(d, m)] if (d, m) in ours.index else None
            p = paper.loc[(d, m)] if (d, m) in paper.index else None
            cells.append(
                "–" if o is None else f"{100 * o['mean']:.1f} ± {100 * o['std']:.1f}"
            )
            cells.append("–" if p is None else f"{100 * p.macro_f1_mean:.1f}")
        lines.append(f"| {m} | {' | '.join(cells)} |")
    lines += [
        "",
        "ART against each method: Wilcoxon p, ours | paper (paired t-test in the CSVs):",
        "",
        f"| method | {' | '.join(f'{d}: ours | paper' for d in datasets)} |",
        "|---" * (1 + 2 * len(datasets)) + "|",
    ]
    for m in methods:
        if m in prefer and all(ref[d] == m for d in datasets if (d, m) in present):
            continue
        cells = []
        for d in datasets:
            t = tests.loc[(d, m)] if (d, m) in tests.index else None
            p = paper.loc[(d, m)] if (d, m) in paper.index else None
            cells.append(
                "–"
                if t is None
                else f"{100 * t.delta:+.1f} ({t.wilcoxon_p:.2g}, n={int(t.n_pairs)})"
            )
            cells.append(_paper_p(p))
        lines.append(f"| {m} | {' | '.join(cells)} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("raw", nargs="+", help="raw_<tag>.csv files of our runs")
    parser.add_argument(
        "--art",
        action="append",
        help="our row that stands for the paper's ART row (repeat: tried in order "
        "on each data set; default ART)",
    )
    args = parser.parse_args(argv)
    df = pd.concat([pd.read_csv(p) for p in args.raw], ignore_index=True)
    df = df.drop_duplicates(["dataset", "method", "seed"])
    print(side_by_side(df, args.art or "ART"))


if __name__ == "__main__":
    main()
