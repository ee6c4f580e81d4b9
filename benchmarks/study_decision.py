"""Validation study: which decision rule should ``predict`` use?

One network per data set, seed and model (ART, or the same net with ``art=False``),
trained with skart's defaults on a training part with its own validation fold
(15 % of each class, passed as ``X_val``). From the same network, four rules:

* ``argmax``: the most probable class;
* ``tuned``: per-class offsets fitted on the validation fold for macro F1, classes
  with fewer than 5 validation rows left at 0 (skart's ``decision="tuned"``);
* ``tuned-noguard``: the same with every class tuned, however few its rows;
* ``prior-shift``: ``log p - log q`` with ``q`` the class mix the net trained under
  (the empirical prior for ``art=False``, ART's sampling distributions averaged
  over the epochs up to the restored one for ART), i.e. a correction to a uniform
  prior with no fitting.

The measure is macro-F1 on a *selection* split (30 %, stratified) that neither
training nor the validation fold sees; no test split is touched. Data: the 22 binary
imbalanced-learn sets (each subsampled to at most ``--max-rows`` rows) and the
multi-class Yeast and red Wine, offline from ../shared/data (or SKART_DATA)::

    python benchmarks/study_decision.py --seeds 5 --out benchmarks/results/decision.csv
    python benchmarks/study_decision.py --summary benchmarks/results/decision.csv
"""

import csv

import numpy as np
import torch
from scipy.stats import wilcoxon
from sklearn.metrics import f1_score
from study_early_stopping import load, main, pending  # same data and splits

from skart import ARTClassifier
from skart._decision import tune_offsets
from skart._validation import stratified_split

RULES = ("argmax", "tuned", "tuned-noguard", "prior-shift")


def trained_prior(clf):
    """The class mix the network was trained under, up to the restored epoch."""
    if not clf.art:
        return clf.class_counts_ / clf.class_counts_.sum()
    stopping = dict(clf.net_.callbacks_).get("early_stopping")
    last = getattr(stopping, "best_epoch_", 0) or len(clf.history_)
    return np.mean(clf.history_[:last, "p"], axis=0)


def run(args):
    torch.set_num_threads(1)
    header = ["data", "seed", "art", "rule", "macro_f1"]
    for name, seed, writer in pending(args.out, header, args.seeds):
        X, X_sel, y, y_sel = load(name, args.max_rows, seed)
        classes, y_enc = np.unique(y, return_inverse=True)
        tr, va = stratified_split(y_enc, 0.15, np.random.RandomState(seed))
        for art in (True, False):
            clf = ARTClassifier(art=art, random_state=seed)
            clf.fit(X[tr], y[tr], X_val=X[va], y_val=y[va])
            with np.errstate(divide="ignore"):
                log_val = np.log(clf.predict_proba(X[va]))
                log_sel = np.log(clf.predict_proba(X_sel))
            offsets = {
                "argmax": np.zeros(len(classes)),
                "tuned": tune_offsets(log_val, y_enc[va], min_support=5),
                "tuned-noguard": tune_offsets(log_val, y_enc[va], min_support=1),
                "prior-shift": -np.log(trained_prior(clf)),
            }
            for rule in RULES:
                pred = classes[np.argmax(log_sel + offsets[rule], axis=1)]
                score = f1_score(y_sel, pred, average="macro")
                writer.writerow([name, seed, art, rule, score])


def summary(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    table = {}
    for r in rows:
        key = (r["art"] == "True", r["rule"])
        table.setdefault(key, {}).setdefault(r["data"], []).append(float(r["macro_f1"]))
    seeds = len({r["seed"] for r in rows})
    print(f"macro-F1 on the selection split, mean over {seeds} seeds then over sets")
    print(
        "| model | rule | mean macro-F1 | vs same model argmax | wins | Wilcoxon p | vs baseline argmax |"
    )
    print("|---|---|---|---|---|---|---|")
    base = table[(False, "argmax")]
    for art in (True, False):
        ref = table[(art, "argmax")]
        for rule in RULES:
            cur = table[(art, rule)]
            sets = sorted(cur)
            a = np.array([np.mean(cur[d]) for d in sets])
            b = np.array([np.mean(ref[d]) for d in sets])
            c = np.array([np.mean(base[d]) for d in sets])
            if rule == "argmax":
                diff, wins, p = "-", "-", "-"
            else:
                diff = f"{100 * (a - b).mean():+.2f}"
                wins = f"{int((a > b).sum())}/{len(sets)}"
                p = f"{wilcoxon(a, b).pvalue:.3f}" if np.any(a != b) else "1"
            vs_base = (
                f"{100 * (a - c).mean():+.2f}"
                if (art, rule) != (False, "argmax")
                else "-"
            )
            name = "ART" if art else "baseline"
            print(
                f"| {name} | {rule} | {a.mean():.4f} | {diff} | {wins} | {p} | {vs_base} |"
            )


if __name__ == "__main__":
    main(run, summary, seeds=5, out="benchmarks/results/decision.csv")
