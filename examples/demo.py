"""skart demo: ART against the same network without ART, on long-tailed digits.

The training half of scikit-learn's digits is made long-tailed (class 0 keeps
every row, class 9 about 3% of them); the other half stays balanced for the
test. Both models are the same MLP with the same folds; only the sampling
differs. The script prints per-class F1 and macro-F1 averaged over seeds, and
writes a figure of ART's sampling distribution and per-class validation F1
over the epochs.

Run it with ``make demo`` (or ``python examples/demo.py --out DIR``).
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skart import ARTClassifier, ClassScoresDisplay, SamplingDistributionDisplay  # noqa: E402
from skart.datasets import make_long_tailed  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="demo_output", help="folder for the figure")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--imbalance-factor", type=float, default=0.03)
    args = parser.parse_args()
    torch.set_num_threads(1)

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.5, stratify=y, random_state=0
    )
    X_train, y_train = make_long_tailed(
        X_train, y_train, imbalance_factor=args.imbalance_factor, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    counts = np.bincount(y_train)
    print(
        f"Long-tailed digits: {len(y_train)} training rows, class counts {counts.tolist()}; "
        f"balanced test set of {len(y_test)} rows.\n"
    )

    per_class = {True: [], False: []}
    art_model = None
    for seed in range(args.seeds):
        for art in (False, True):
            clf = ARTClassifier(art=art, random_state=seed).fit(X_train, y_train)
            per_class[art].append(f1_score(y_test, clf.predict(X_test), average=None))
            if art and seed == 0:
                art_model = clf
    base, art = np.mean(per_class[False], axis=0), np.mean(per_class[True], axis=0)

    print(f"Per-class F1 on the test set, mean over {args.seeds} seeds")
    print(f"{'class':>5} {'n_train':>8} {'baseline':>9} {'ART':>7} {'ART-base':>9}")
    for k in range(len(counts)):
        print(
            f"{k:>5} {counts[k]:>8} {base[k]:>9.3f} {art[k]:>7.3f} {art[k] - base[k]:>+9.3f}"
        )
    macro = {a: np.mean(per_class[a], axis=1) for a in (False, True)}  # per seed
    wins = int(np.sum(macro[True] > macro[False]))
    print(
        f"\nmacro-F1  baseline {macro[False].mean():.3f} ± {macro[False].std():.3f}   "
        f"ART {macro[True].mean():.3f} ± {macro[True].std():.3f}   "
        f"(ART ahead on {wins} of {args.seeds} seeds)"
    )

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fig, (ax_p, ax_f) = plt.subplots(1, 2, figsize=(13, 4.5), layout="constrained")
    SamplingDistributionDisplay.from_estimator(art_model, ax=ax_p)
    ClassScoresDisplay.from_estimator(art_model, ax=ax_f)
    ax_p.set_title("ART sampling distribution p (seed 0)")
    ax_f.set_title("per-class validation F1 (seed 0)")
    path = out / "art_demo.png"
    fig.savefig(path, dpi=110)
    print(f"\nFigure written to {path}")


if __name__ == "__main__":
    main()
