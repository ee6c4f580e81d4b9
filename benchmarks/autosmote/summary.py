"""Tables of the AutoSMOTE benchmark of issue 23 (markdown): the anchor's selection, then the test."""

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
from run import ANCHORS, SELECTION
from scipy.stats import ttest_rel, wilcoxon

SMOTE = "MLP+SMOTE"
ORDER = [
    "AutoSMOTE a=0",
    "MLP",
    "MLP+tuned",
    "MLP+SMOTE",
    "MLP+BorderlineSMOTE",
    "ART",
]


def _read(folder):
    frames = [pd.read_csv(p) for p in sorted(Path(folder).glob("*.csv"))]
    # A (set, seed) run twice (a process cut and restarted) counts once.
    raw = pd.concat(frames, ignore_index=True).drop_duplicates(
        ["set", "seed", "method"]
    )
    failed = raw[raw["note"].fillna("").str.startswith("failed")]
    return raw.drop(failed.index), failed


def holm(pvalues):
    """Holm's step-down adjusted p-values, in the input's order."""
    p = np.asarray(pvalues, dtype=float)
    order = np.argsort(p)
    adjusted = np.empty_like(p)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p) - rank) * p[i]))
        adjusted[i] = running
    return adjusted


def paired_p(diff):
    """Two-sided Wilcoxon signed-rank p; paired t where Wilcoxon is degenerate."""
    diff = np.asarray(diff, dtype=float)
    if not (diff != 0).any():
        return 1.0, "all ties"
    if (diff != 0).sum() < 2:
        return float(ttest_rel(diff, np.zeros_like(diff)).pvalue), "t"
    return float(wilcoxon(diff).pvalue), "Wilcoxon"


def choose(sel):
    """The selection rule of run.py's docstring; returns (table, chosen anchor)."""
    wide = sel.pivot_table(index=["set", "seed"], columns="method", values="macro_f1")
    names = [f"AutoSMOTE a={a:g}" for a in ANCHORS]
    wide = wide.dropna(subset=names)
    means = wide[names].mean()
    best = means.idxmax()
    rows = []
    for a, name in zip(ANCHORS, names):
        diff = wide[name] - wide[best]
        se = diff.std(ddof=1) / np.sqrt(len(diff)) if name != best else 0.0
        rows.append(
            {
                "anchor": a,
                "mean val macro-F1": means[name],
                "diff to best": diff.mean(),
                "SE of diff": se,
                "within 1 SE": diff.mean() >= -se,
            }
        )
    table = pd.DataFrame(rows)
    chosen = float(table.loc[table["within 1 SE"], "anchor"].max())
    return table, chosen, len(wide)


def _failures(failed):
    """Markdown lines listing the fits that failed (none: no lines)."""
    if not len(failed):
        return []
    columns = ["set", "seed", "method", "note"]
    return ["\nFailed fits:\n", failed[columns].to_markdown(index=False)]


def _pct(frame):
    return (100 * frame).round(1)


def trade_off(main, folder, main_anchors):
    """The pull's trade-off on the test splits: each anchor against SMOTE and anchor 0.

    Over the (set, seed) pairs where every anchor (``main``'s and ``trade``'s)
    and the SMOTE pipeline have a score, so that every row averages the same
    pairs; per-set tests over seeds with Holm's correction across the sets.
    """
    extra, failed = _read(folder)
    rows = pd.concat([main, extra], ignore_index=True)
    wide = rows.pivot_table(index=["set", "seed"], columns="method", values="macro_f1")
    anchors = sorted(
        (m for m in wide.columns if m.startswith("AutoSMOTE a=")),
        key=lambda m: float(m.split("=")[1]),
    )
    wide = wide[[*anchors, SMOTE]].dropna()
    sets = sorted(wide.index.get_level_values("set").unique())
    seeds = wide.groupby(level="set").size()
    per_set = wide.groupby(level="set").mean()
    fresh = [s for s in sets if s not in SELECTION]
    chosen = [s for s in sets if s in SELECTION]
    out = [
        f"\n### The pull's trade-off on the test splits ({len(sets)} sets, "
        f"{len(wide)} (set, seed) pairs, {seeds.min()}-{seeds.max()} seeds per set)\n",
        "Anchors other than "
        + " and ".join(m.split("=")[1] for m in main_anchors)
        + " ran alone (`run.py trade`) on the same splits and seeds; nothing was "
        "chosen on these numbers. Means in %, differences in points; the paired "
        "test is two-sided Wilcoxon over the (set, seed) pairs; 'sets behind' counts "
        "the sets whose mean is below SMOTE's, 'Holm-worse' those significantly "
        "below it (per-set test over seeds, Holm across the sets).\n",
    ]
    table = []
    for name in [*anchors, SMOTE]:
        row = {
            "method": name,
            f"all {len(sets)}": 100 * per_set.loc[sets, name].mean(),
            f"fresh {len(fresh)}": 100 * per_set.loc[fresh, name].mean(),
            f"selection {len(chosen)}": 100 * per_set.loc[chosen, name].mean(),
        }
        if name != SMOTE:
            diff = wide[name] - wide[SMOTE]
            p, _ = paired_p(diff)
            per_p = [paired_p(diff.loc[s])[0] for s in sets]
            behind = per_set.loc[sets, name] < per_set.loc[sets, SMOTE]
            worse = (holm(per_p) < 0.05) & behind.to_numpy()
            zero = wide[name] - wide[anchors[0]]
            p_zero = f"{paired_p(zero)[0]:.3g}" if name != anchors[0] else ""
            row.update(
                {
                    "vs SMOTE (pts)": 100 * diff.mean(),
                    "w/t/l": f"{(diff > 0).sum()}/{(diff == 0).sum()}/{(diff < 0).sum()}",
                    "p": f"{p:.3g}",
                    "fresh vs SMOTE (pts)": 100 * diff.loc[fresh].mean(),
                    "sets behind": int(behind.sum()),
                    "Holm-worse": int(worse.sum()),
                    "vs a=0 (pts)": 100 * zero.mean(),
                    "p vs a=0": p_zero,
                }
            )
        table.append(row)
    table = pd.DataFrame(table).round(2).astype(object)
    out.append(table.where(table.notna(), "").to_markdown(index=False))
    return out + _failures(failed)


def defaults_section(folder):
    """The issue's new-user comparison: every estimator at its defaults."""
    ok, failed = _read(folder)
    n_methods = ok["method"].nunique()
    done = ok.groupby(["set", "seed"])["method"].transform("nunique") == n_methods
    ok = ok[done]
    new = [f"AutoSMOTE a={a} (new defaults)" for a in (3, 0)]
    order = [*new, "AutoSMOTE a=3", "AutoSMOTE a=0", *ORDER[1:]]
    wide = ok.pivot_table(index=["set", "seed"], columns="method", values="macro_f1")
    wide = wide[[m for m in order if m in wide.columns]]
    per_set = wide.groupby(level="set").mean()
    seeds = wide.groupby(level="set").size()
    out = [
        f"\n## Defaults, the issue's new-user protocol ({len(per_set)} "
        f"sets, {len(wide)} (set, seed) pairs, {seeds.min()}-{seeds.max()} seeds per "
        f"set: {sorted(int(s) for s in ok['seed'].unique())})\n",
        "Every estimator at its own defaults (`random_state` only); stratified 70/30 "
        "split, z-scored; no `X_val`. Test macro-F1, % (mean over seeds):\n",
    ]
    shown = _pct(per_set)
    shown.insert(0, "seeds", seeds)
    shown.insert(
        1, "group", ["selection" if s in SELECTION else "fresh" for s in shown.index]
    )
    out.append(shown.sort_values(["group", "set"]).to_markdown())
    # The fresh binary sets (the protocol) and the selection sets (the
    # multi-class ones, which chose the training) are reported apart.
    fresh = [s for s in per_set.index if s not in SELECTION]
    chosen = [s for s in per_set.index if s in SELECTION]
    groups = {
        name: sets
        for name, sets in (
            (f"fresh {len(fresh)}", fresh),
            (f"selection {len(chosen)}", chosen),
        )
        if sets
    }
    out.append("\nMean over the sets:\n")
    out.append(
        _pct(
            pd.DataFrame({g: per_set.loc[s].mean() for g, s in groups.items()}).T
        ).to_markdown()
    )
    rows = []
    pairs = [
        (new[0], SMOTE),
        (new[1], SMOTE),
        (new[0], "AutoSMOTE a=3"),
        (new[0], new[1]),
        (new[0], "MLP+tuned"),
        ("AutoSMOTE a=3", SMOTE),
        ("AutoSMOTE a=0", SMOTE),
        ("AutoSMOTE a=3", "AutoSMOTE a=0"),
        ("AutoSMOTE a=3", "MLP+tuned"),
        (SMOTE, "MLP+tuned"),
    ]
    for (name, other), (group, sets) in itertools.product(pairs, groups.items()):
        if name not in wide or other not in wide:
            continue
        diff = wide.loc[sets, name] - wide.loc[sets, other]
        p, _ = paired_p(diff)
        per_p = holm([paired_p(diff.loc[s])[0] for s in sets])
        behind = (per_set.loc[sets, name] < per_set.loc[sets, other]).to_numpy()
        rows.append(
            {
                "method": name,
                "vs": other,
                "sets": group,
                "mean diff (pts)": round(100 * diff.mean(), 2),
                "w/t/l": f"{(diff > 0).sum()}/{(diff == 0).sum()}/{(diff < 0).sum()}",
                "Wilcoxon p": f"{p:.3g}",
                "sets behind": int(behind.sum()),
                "Holm-worse sets": int(((per_p < 0.05) & behind).sum()),
            }
        )
    out.append("\nPaired over the (set, seed) pairs:\n")
    out.append(pd.DataFrame(rows).to_markdown(index=False))
    cpu = ok[ok["method"] != "MLP"].groupby("method")["cpu_s"].sum()
    out.append(
        "\nCPU seconds of fitting, all pairs: "
        + ", ".join(f"{m} {v:.0f}" for m, v in cpu.items())
    )
    return out + _failures(failed)


def choose_training(folder):
    """``select-train``'s rule (run.py's docstring): the table and the choice."""
    raw, failed = _read(folder)
    wide = raw.pivot_table(index=["set", "seed"], columns="method", values="macro_f1")
    names = [m for m in wide.columns if m.startswith("AutoSMOTE")]
    wide = wide.dropna(subset=names)
    means = wide.mean()
    best = means[names].idxmax()
    preferred = "AutoSMOTE core+decision_lr training"
    rows = []
    for name in [*names, SMOTE]:
        diff = wide[name] - wide[best]
        se = diff.std(ddof=1) / np.sqrt(len(diff)) if name != best else 0.0
        rows.append(
            {
                "candidate": name,
                "mean val macro-F1": round(100 * means[name], 2),
                "diff to best (pts)": round(100 * diff.mean(), 2),
                "SE of diff (pts)": round(100 * se, 2),
                "within 1 SE": bool(diff.mean() >= -se),
            }
        )
    table = pd.DataFrame(rows)
    within = table.set_index("candidate")["within 1 SE"]
    chosen = preferred if within.get(preferred, False) else best
    out = [
        f"\n## Selection of AutoSMOTE's training defaults (`select-train`; validation "
        f"folds of the {wide.index.get_level_values('set').nunique()} selection sets, "
        f"seeds {sorted(int(s) for s in raw['seed'].unique())}, {len(wide)} pairs)\n",
        table.to_markdown(index=False),
        f"\nChosen by the rule: **{chosen}**.\n",
        "Per set (mean validation macro-F1, %):\n",
        _pct(wide.groupby(level="set").mean()).to_markdown(),
    ]
    return out + _failures(failed)


def summarise(out):
    out = Path(out)
    lines = ["# AutoSMOTE benchmark, issue 23 (generated by summary.py)\n"]
    if (out / "select").exists():
        sel, sel_failed = _read(out / "select")
        table, chosen, pairs = choose(sel)
        lines.append(
            f"## Selection of `anchor` (validation folds, {len(sel['set'].unique())} "
            f"selection sets, seeds {sorted(int(s) for s in sel['seed'].unique())}, {pairs} pairs)\n"
        )
        shown = table.copy()
        for col in ("mean val macro-F1", "diff to best", "SE of diff"):
            shown[col] = (100 * shown[col]).round(2)
        lines.append(shown.to_markdown(index=False))
        lines.append(f"\nChosen by the rule: **anchor = {chosen:g}**.\n")
        per_set = sel.pivot_table(index="set", columns="method", values="macro_f1")
        lines.append("Per set (mean validation macro-F1, %):\n")
        lines.append(_pct(per_set).to_markdown())
        smote = sel[sel["method"] == SMOTE]["macro_f1"].mean()
        lines.append(f"\nSMOTE pipeline, same folds: {100 * smote:.2f}.\n")
        if len(sel_failed):
            lines.append(sel_failed[["set", "seed", "method", "note"]].to_markdown())
    if (out / "select_train").exists():
        lines.extend(choose_training(out / "select_train"))
    if not (out / "main").exists():
        (out / "summary.md").write_text("\n".join(lines) + "\n")
        return
    ok, failed = _read(out / "main")
    # Only (set, seed) pairs that every method finished: a run cut mid-seed
    # leaves some methods ahead of others on its last set.
    n_methods = ok["method"].nunique()
    done = ok.groupby(["set", "seed"])["method"].transform("nunique") == n_methods
    cut = ok[~done][["set", "seed"]].drop_duplicates()
    ok = ok[done]
    autos = sorted(
        m for m in ok["method"].unique() if m.startswith("AutoSMOTE") and m != ORDER[0]
    )
    chosen_name = autos[0] if autos else ORDER[0]
    order = [chosen_name, *ORDER] if autos else ORDER
    seeds = ok.groupby("set")["seed"].nunique()
    lines.append(
        f"## Test ({ok['set'].nunique()} sets; seeds per set: {seeds.min()}-{seeds.max()}; "
        f"seeds {sorted(int(s) for s in ok['seed'].unique())})\n"
    )
    mean = ok.pivot_table(index="set", columns="method", values="macro_f1")[order]
    # Means, ranks and tests over the sets where every method has a score, so
    # that every method is averaged over the same sets.
    complete = list(mean.dropna().index)
    fresh = [s for s in complete if s not in SELECTION]
    sel_sets = [s for s in complete if s in SELECTION]
    shown = _pct(mean)
    shown.insert(0, "seeds", seeds)
    shown.insert(
        1, "group", ["selection" if s in SELECTION else "fresh" for s in shown.index]
    )
    shown = shown.sort_values(["group", "set"])
    lines.append("### Test macro-F1 (%, mean over seeds)\n")
    lines.append(shown.to_markdown())
    if len(complete) < len(mean):
        lines.append(
            "\nSets without a score for every method (left out of the means and "
            f"tests below): {sorted(set(mean.index) - set(complete))}.\n"
        )
    groups = {
        f"all {len(complete)}": complete,
        f"fresh {len(fresh)}": fresh,
        f"selection {len(sel_sets)}": sel_sets,
    }
    agg = pd.DataFrame({g: mean.loc[s].mean() for g, s in groups.items()}).T
    lines.append(
        "\n### Mean test macro-F1 over sets (%; each set's mean over its seeds)\n"
    )
    lines.append(_pct(agg).to_markdown())
    ranks = mean.dropna().rank(axis=1, ascending=False)
    lines.append("\nMean rank over the sets where every method ran:\n")
    lines.append(ranks.mean().round(2).to_frame("mean rank").T.to_markdown())

    wide = ok.pivot_table(index=["set", "seed"], columns="method", values="macro_f1")
    for name in dict.fromkeys([chosen_name, ORDER[0]]):
        rows = []
        for set_ in complete:
            pair = wide.loc[set_, [name, SMOTE]].dropna()
            diff = pair[name] - pair[SMOTE]
            p, test = paired_p(diff)
            rows.append(
                {
                    "set": set_,
                    "group": "selection" if set_ in SELECTION else "fresh",
                    "seeds": len(pair),
                    "diff (pts)": round(100 * diff.mean(), 2),
                    "w/t/l": f"{(diff > 0).sum()}/{(diff == 0).sum()}/{(diff < 0).sum()}",
                    "p": p,
                    "test": test,
                }
            )
        table = pd.DataFrame(rows)
        table["Holm p"] = holm(table["p"])
        table["verdict"] = np.where(
            table["Holm p"] < 0.05,
            np.where(
                table["diff (pts)"] < 0, "significantly WORSE", "significantly better"
            ),
            "",
        )
        table["p"] = table["p"].map(lambda v: f"{v:.3g}")
        table["Holm p"] = table["Holm p"].map(lambda v: f"{v:.3g}")
        table = table.sort_values(["group", "set"])
        lines.append(
            f"\n### {name} against the SMOTE pipeline, per set (paired over seeds, "
            "two-sided; Holm across the sets)\n"
        )
        lines.append(table.to_markdown(index=False))
    rows = []
    for name in dict.fromkeys([chosen_name, ORDER[0]]):
        for other in order:
            if other == name:
                continue
            pair = wide[[name, other]].dropna()
            pair = pair[pair.index.get_level_values("set").isin(complete)]
            diff = pair[name] - pair[other]
            for group, sets in groups.items():
                d = diff[diff.index.get_level_values("set").isin(sets)]
                p, _ = paired_p(d)
                rows.append(
                    {
                        "method": name,
                        "vs": other,
                        "sets": group,
                        "pairs": len(d),
                        "mean diff (pts)": round(100 * d.mean(), 2),
                        "w/t/l": f"{(d > 0).sum()}/{(d == 0).sum()}/{(d < 0).sum()}",
                        "Wilcoxon p": f"{p:.3g}",
                    }
                )
    lines.append("\n### Paired over (set, seed), two-sided Wilcoxon, no correction\n")
    lines.append(pd.DataFrame(rows).to_markdown(index=False))
    minority = ok.pivot_table(index="set", columns="method", values="minority_f1")[
        order
    ]
    lines.append(
        "\n### Mean minority F1 over sets (%; binary: class 1; multi-class: mean F1 of "
        "the classes with fewer training rows than the mean)\n"
    )
    lines.append(
        _pct(
            pd.DataFrame({g: minority.loc[s].mean() for g, s in groups.items()}).T
        ).to_markdown()
    )
    if len(cut):
        lines.append(
            "\n(set, seed) pairs left out, not every method finished (the run was "
            f"cut): {[tuple(r) for r in cut.itertuples(index=False)]}\n"
        )
    if len(failed):
        lines.append("\n### Failed fits\n")
        lines.append(failed[["set", "seed", "method", "note"]].to_markdown(index=False))
    if (out / "trade").exists():
        lines.extend(trade_off(ok, out / "trade", [chosen_name, ORDER[0]]))
    time_ = ok[ok["method"] != "MLP"]  # the same fit as MLP+tuned
    secs = time_.pivot_table(
        index="set", columns="method", values="cpu_s", aggfunc="mean"
    )
    lines.append(
        "\n### Fit cost (CPU seconds of the one-thread process; wall time on the "
        "shared machine was larger)\n\n"
        f"Total CPU seconds of fitting: {time_['cpu_s'].sum():.0f} "
        f"(wall: {time_['fit_s'].sum():.0f}). Mean per set:\n"
    )
    lines.append(secs.round(1).to_markdown())
    if (out / "defaults").exists():
        lines.extend(defaults_section(out / "defaults"))
    text = "\n".join(lines) + "\n"
    (out / "summary.md").write_text(text)
    print(text)
