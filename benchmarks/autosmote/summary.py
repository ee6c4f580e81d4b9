"""Tables of the AutoSMOTE benchmark: means, mean ranks and paired tests (markdown)."""

from pathlib import Path

import pandas as pd
from scipy.stats import wilcoxon

REFERENCE = "AutoSMOTE-cohort"


def _table(raw, metric):
    mean = raw.pivot_table(index="set", columns="method", values=metric, aggfunc="mean")
    std = raw.pivot_table(index="set", columns="method", values=metric, aggfunc="std")
    cells = mean.map(lambda v: f"{v:.3f}") + " ± " + std.map(lambda v: f"{v:.3f}")
    return mean, cells.where(mean.notna(), "failed")


def _ranks(mean, methods):
    ranks = mean[methods].dropna(how="any").rank(axis=1, ascending=False)
    return ranks.mean().sort_values()


def _paired(raw, metric, methods, reference=REFERENCE):
    wide = raw.pivot_table(index=["set", "seed"], columns="method", values=metric)
    rows = []
    for other in methods:
        if other == reference:
            continue
        pair = wide[[reference, other]].dropna()
        diff = pair[reference] - pair[other]
        p = wilcoxon(diff).pvalue if (diff != 0).any() else 1.0
        rows.append(
            {
                "vs": other,
                "pairs": len(pair),
                "mean diff": f"{diff.mean():+.3f}",
                "wins/ties/losses": f"{(diff > 0).sum()}/{(diff == 0).sum()}/{(diff < 0).sum()}",
                "Wilcoxon p": f"{p:.3g}",
            }
        )
    return pd.DataFrame(rows)


def summarise(out):
    out = Path(out)
    lines = []
    raw = pd.read_csv(out / "main" / "raw.csv")
    failed = raw[raw["note"].fillna("").str.startswith("failed")]
    ok = raw.drop(failed.index)
    seeds = sorted(raw["seed"].unique())
    lines.append(f"Seeds: {seeds}; sets: {sorted(raw['set'].unique())}.\n")
    common = [m for m in ok["method"].unique() if m != "MLP+threshold"]
    binary = sorted(ok.loc[ok["method"] == "MLP+threshold", "set"].unique())
    for metric in ("macro_f1", "minority_f1"):
        mean, cells = _table(ok, metric)
        lines.append(f"\n### {metric} (mean ± std over seeds)\n")
        lines.append(cells.to_markdown())
        # Ranks over the methods that ran on every set (ADASYN refuses the
        # multi-class sets), then over the binary sets with every method.
        everywhere = [m for m in common if mean[m].notna().all()]
        r_all = _ranks(mean, everywhere)
        lines.append(
            f"\nMean rank over all sets, methods that ran on every set ({metric}):\n"
        )
        lines.append(r_all.round(2).to_frame("mean rank").to_markdown())
        if binary:
            r_bin = _ranks(mean.loc[binary], [*common, "MLP+threshold"])
            lines.append(
                f"\nMean rank over the binary sets, with the threshold baseline ({metric}):\n"
            )
            lines.append(r_bin.round(2).to_frame("mean rank").to_markdown())
        lines.append(
            f"\nPaired Wilcoxon signed-rank tests, {REFERENCE} against each method, over (set, seed) pairs ({metric}):\n"
        )
        lines.append(
            _paired(ok, metric, [*common, "MLP+threshold"]).to_markdown(index=False)
        )
    if len(failed):
        lines.append("\n### Failed fits\n")
        lines.append(failed[["set", "seed", "method", "note"]].to_markdown(index=False))
    time_ = ok.pivot_table(
        index="set", columns="method", values="fit_s", aggfunc="mean"
    )
    lines.append("\n### Mean fit time (s, one thread)\n")
    lines.append(time_.round(1).to_markdown())
    for folder in ("sensitivity", "sensitivity_bilevel"):
        sens_path = out / folder / "raw.csv"
        if not sens_path.exists():
            continue
        sens = pd.read_csv(sens_path)
        objective = "bilevel" if folder.endswith("bilevel") else "joint"
        lines.append(
            f"\n### Sensitivity (AutoSMOTE-cohort, objective={objective}; mean ± std over seeds)\n"
        )
        for set_, part in sens.groupby("set"):
            agg = part.groupby("method", sort=False)[["macro_f1", "minority_f1"]].agg(
                ["mean", "std"]
            )
            agg.columns = [f"{a} {b}" for a, b in agg.columns]
            lines.append(f"\n{set_}, seeds {sorted(part['seed'].unique())}:\n")
            lines.append(agg.round(3).to_markdown())
    ablation = out / "ablation" / "raw.csv"
    if ablation.exists():
        abl = pd.read_csv(ablation)
        both = pd.concat(
            [ok[ok["method"].isin(["AutoSMOTE-cohort", "AutoSMOTE-self", "MLP"])], abl]
        )
        both = both[both["seed"].isin(abl["seed"].unique())]
        mean, cells = _table(both, "macro_f1")
        lines.append(
            f"\n### Ablation (macro-F1; seeds {sorted(abl['seed'].unique())})\n"
        )
        lines.append(cells.to_markdown())
        # Every method, the ablation rows included, on the seeds both ran.
        full = pd.concat([ok[ok["seed"].isin(abl["seed"].unique())], abl])
        for metric in ("macro_f1", "minority_f1"):
            mean, _ = _table(full, metric)
            methods = [m for m in mean.columns if m != "MLP+threshold"]
            everywhere = [m for m in methods if mean[m].notna().all()]
            lines.append(f"\nMean rank with the ablation rows, all sets ({metric}):\n")
            lines.append(
                _ranks(mean, everywhere).round(2).to_frame("mean rank").to_markdown()
            )
            lines.append(
                f"\nPaired tests, AutoSMOTE-cohort-bilevel against each method ({metric}):\n"
            )
            lines.append(
                _paired(
                    full, metric, list(mean.columns), "AutoSMOTE-cohort-bilevel"
                ).to_markdown(index=False)
            )
    text = "\n".join(lines) + "\n"
    (out / "summary.md").write_text(text)
    print(text)
