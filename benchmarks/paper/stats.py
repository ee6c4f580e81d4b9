"""Summaries of the per-seed results: mean ± std, paired tests, ranks, heatmap."""

import numpy as np
import pandas as pd
from scipy import stats

from .protocol import METRICS


def summarize(df, metrics=METRICS):
    """Mean and std (ddof=1) over seeds per data set and method: long format."""
    g = df.groupby(["dataset", "method"], sort=False)[list(metrics)]
    out = g.mean().add_suffix("_mean").join(g.std(ddof=1).add_suffix("_std"))
    out["n_seeds"] = g.size()
    return out.reset_index()


def paired_tests(df, reference="ART", metric="macro_f1"):
    """Paired t-test and Wilcoxon signed-rank test of ``reference`` vs each method.

    Seeds are paired (same split). Returns one row per (data set, method):
    ``delta`` = mean(reference - method), ``t_p`` (``scipy.stats.ttest_rel``,
    two-sided) and ``wilcoxon_p`` (``scipy.stats.wilcoxon``, two-sided; 1.0
    when every difference is zero, NaN with fewer than 2 pairs).
    """
    rows = []
    for dataset, d in df.groupby("dataset", sort=False):
        wide = d.pivot_table(index="seed", columns="method", values=metric)
        if reference not in wide:
            continue
        for method in wide.columns.drop(reference):
            pair = wide[[reference, method]].dropna()
            diff = pair[reference] - pair[method]
            t_p = w_p = np.nan
            if len(pair) >= 2:
                if np.allclose(diff, 0):
                    t_p = w_p = 1.0
                else:
                    t_p = stats.ttest_rel(pair[reference], pair[method]).pvalue
                    w_p = stats.wilcoxon(pair[reference], pair[method]).pvalue
            rows.append(
                {
                    "dataset": dataset,
                    "method": method,
                    "n_pairs": len(pair),
                    "delta": diff.mean(),
                    "t_p": t_p,
                    "wilcoxon_p": w_p,
                }
            )
    return pd.DataFrame(rows)


def average_ranks(df, metric="macro_f1"):
    """Rank methods by mean ``metric`` within each data set (1 = best; ties share
    the average rank), then average over data sets. Returns (per-data-set ranks
    as a methods x data sets frame, average rank Series sorted best first)."""
    means = df.groupby(["dataset", "method"], sort=False)[metric].mean().unstack(0)
    ranks = means.rank(ascending=False, method="average")
    return ranks, ranks.mean(axis=1).sort_values()


def across_datasets(df, reference, metric="macro_f1", alpha=0.05):
    """Each method against ``reference`` over data sets (mean over seeds first).

    One row per method: the mean ``metric`` over data sets, its difference to
    ``reference`` (``delta``, method minus reference), wins / ties / losses over
    data sets, the two-sided Wilcoxon signed-rank p over the per-data-set means,
    and how many data sets show a significant win or loss on their own (paired
    Wilcoxon over seeds, p < ``alpha``).
    """
    means = df.groupby(["dataset", "method"], sort=False)[metric].mean().unstack(1)
    tests = paired_tests(df, reference, metric)
    rows = []
    for method in means.columns:
        pair = means[[reference, method]].dropna()
        diff = pair.iloc[:, 1] - pair.iloc[:, 0]
        pair = pair.iloc[:, 1]
        row = {
            "method": method,
            "n_datasets": len(pair),
            "mean": pair.mean(),
            "delta": diff.mean(),
            "wins": int((diff > 1e-12).sum()),
            "ties": int((diff.abs() <= 1e-12).sum()),
            "losses": int((diff < -1e-12).sum()),
            "wilcoxon_p": np.nan,
            "sig_wins": 0,
            "sig_losses": 0,
        }
        if method != reference:
            if len(pair) >= 2 and not np.allclose(diff, 0):
                row["wilcoxon_p"] = stats.wilcoxon(diff).pvalue
            t = tests[(tests.method == method) & (tests.wilcoxon_p < alpha)]
            # paired_tests' delta is reference minus method
            row["sig_wins"] = int((t.delta < 0).sum())
            row["sig_losses"] = int((t.delta > 0).sum())
        rows.append(row)
    return pd.DataFrame(rows).sort_values("mean", ascending=False)


def critical_difference(df, path, metric="macro_f1", alpha=0.05):
    """Friedman test and Nemenyi critical-difference diagram of the average ranks.

    Ranks are taken per data set on the mean over seeds, over the data sets where
    every method ran. Writes a PNG and returns ``(average ranks, CD, Friedman p)``.
    Methods whose average ranks differ by less than the CD are joined by a bar:
    the test cannot tell them apart at level ``alpha`` (Demšar 2006).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    means = df.groupby(["dataset", "method"], sort=False)[metric].mean().unstack(1)
    means = means.dropna()
    n, k = means.shape
    ranks = means.rank(axis=1, ascending=False, method="average").mean().sort_values()
    friedman_p = stats.friedmanchisquare(*means.to_numpy().T).pvalue
    q = stats.studentized_range.ppf(1 - alpha, k, np.inf) / np.sqrt(2)
    cd = q * np.sqrt(k * (k + 1) / (6 * n))
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.32 * k))
    ax.set_xlim(k + 0.5, 0.5)  # rank 1 on the right, as in Demšar's figures
    ax.set_ylim(-(k + 1.5), 1.5)
    ax.axhline(0, color="black", lw=1)
    for r in range(1, k + 1):
        ax.plot([r, r], [0, 0.15], color="black", lw=1)
        ax.text(r, 0.3, str(r), ha="center", fontsize=8)
    for i, (method, rank) in enumerate(ranks.items()):
        y = -(i + 1.5)
        ax.plot([rank, rank], [0, y], color="grey", lw=0.8)
        ax.text(
            rank,
            y,
            f" {method} ({rank:.2f}) ",
            va="center",
            fontsize=8,
            ha="right" if i < k / 2 else "left",
        )
    # cliques: maximal runs of methods within one CD of each other
    values = ranks.to_numpy()
    cliques = []
    for i in range(k):
        j = np.searchsorted(values, values[i] + cd, side="right") - 1
        if j > i and not any(a <= i and j <= b for a, b in cliques):
            cliques.append((i, j))
    for depth, (i, j) in enumerate(cliques):  # under the axis, above the names
        y = -0.3 - 0.2 * depth
        ax.plot([values[i], values[j]], [y, y], color="black", lw=3)
    ax.plot([1, 1 + cd], [0.9, 0.9], color="firebrick", lw=2)
    ax.text(1 + cd / 2, 1.05, f"CD = {cd:.2f}", ha="center", fontsize=8)
    ax.set_axis_off()
    ax.set_title(
        f"Average rank of test {metric} over {n} data sets "
        f"(Friedman p = {friedman_p:.2g}; Nemenyi, α = {alpha})",
        fontsize=9,
    )
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return ranks, cd, friedman_p


def delta_heatmap(df, path, reference="ART", metric="macro_f1"):
    """Heatmap of mean(reference - method) in points, data sets x methods (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    means = df.groupby(["dataset", "method"], sort=False)[metric].mean().unstack(1)
    if reference not in means:
        return None
    delta = 100 * means.drop(columns=reference).rsub(means[reference], axis=0)
    if delta.shape[1] == 0:  # nothing to compare the reference with
        return None
    # Colours saturate at 10 points so that small differences stay visible
    # next to NearMiss's collapses; the numbers are exact.
    lim = min(max(float(np.nanmax(np.abs(delta.to_numpy()))), 1e-9), 10.0)
    fig, ax = plt.subplots(figsize=(1.5 + 0.8 * delta.shape[1], 1.8 + 0.5 * len(delta)))
    im = ax.imshow(delta.to_numpy(), cmap="RdBu", vmin=-lim, vmax=lim, aspect="auto")
    ax.set_xticks(range(delta.shape[1]), delta.columns, rotation=45, ha="right")
    ax.set_yticks(range(len(delta)), delta.index)
    for i in range(delta.shape[0]):
        for j in range(delta.shape[1]):
            v = delta.iat[i, j]
            if np.isfinite(v):
                ax.text(
                    j,
                    i,
                    f"{v:+.1f}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if abs(v) > 0.6 * lim else "black",
                )
    fig.colorbar(im, ax=ax, label="points (clipped at ±10)", shrink=0.9)
    ax.set_title(
        f"{reference} minus each method: test macro-F1 (points, mean over seeds)"
    )
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return delta


def _pm(mean, std):
    return (
        f"{100 * mean:.2f} ± {100 * std:.2f}"
        if np.isfinite(std)
        else f"{100 * mean:.2f}"
    )


def markdown_report(df, reference="ART", metric="macro_f1"):
    """Markdown tables: metric mean ± std (percent) per method x data set, average
    rank, and the p-values of ``reference`` against each method."""
    summ = summarize(df, [metric])
    datasets = list(dict.fromkeys(df["dataset"]))
    methods = list(dict.fromkeys(df["method"]))
    _, avg = average_ranks(df, metric)
    cell = {
        (r.dataset, r.method): _pm(
            getattr(r, f"{metric}_mean"), getattr(r, f"{metric}_std")
        )
        for r in summ.itertuples()
    }
    best = summ.loc[summ.groupby("dataset")[f"{metric}_mean"].idxmax()]
    best = set(zip(best["dataset"], best["method"]))
    lines = [
        f"| method | {' | '.join(datasets)} | avg rank |",
        "|---" * (len(datasets) + 2) + "|",
    ]
    for m in methods:
        cells = [
            (f"**{cell[(d, m)]}**" if (d, m) in best else cell.get((d, m), "–"))
            for d in datasets
        ]
        lines.append(f"| {m} | {' | '.join(cells)} | {avg.get(m, np.nan):.2f} |")
    tests = paired_tests(df, reference, metric)
    if len(tests):
        lines += [
            "",
            f"{reference} minus method, {metric} in points (paired t-test p / "
            "Wilcoxon p):",
            "",
            f"| method | {' | '.join(datasets)} |",
            "|---" * (len(datasets) + 1) + "|",
        ]
        for m in [m for m in methods if m != reference]:
            cells = []
            for d in datasets:
                r = tests[(tests.dataset == d) & (tests.method == m)]
                cells.append(
                    "–"
                    if r.empty
                    else f"{100 * r.delta.iat[0]:+.2f} ({r.t_p.iat[0]:.3g} / "
                    f"{r.wilcoxon_p.iat[0]:.3g})"
                )
            lines.append(f"| {m} | {' | '.join(cells)} |")
    return "\n".join(lines)
