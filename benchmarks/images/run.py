"""MNIST-LT from a PNG folder: the plain CNN, ART and cRT, with and without augmentation.

Every fit goes through the estimators' data set path: ``est.fit(dataset,
None)`` on :class:`~benchmarks.images.common.ImageFolderDataset` (labels from
its ``targets``, each PNG decoded per batch), with the augmentation as
``train_transform``. All methods share the network (:func:`common.make_cnn`),
AdamW at lr 1e-3 with the cosine schedule, batch 128, ``--epochs`` epochs and
no early stopping (``patience=None``), the default 15% validation fold, one
torch thread and no loader workers. Each method is fitted once with
``decision="tuned"`` (per-class logit offsets tuned on the validation fold,
threshold moving); the argmax of ``predict_proba`` is its plain decision, the
tuned rule its other. The methods (``method`` / ``decision`` columns):

- ``plain``: ``ARTClassifier(art=False)``, the network with cross-entropy;
  ``plain/tuned`` is the threshold-moving baseline every method is tested
  against.
- ``art``: ``ARTClassifier(art=True)`` (the defaults: c=0.5, bf=1, f1).
- ``crt``: ``DecoupledClassifier()`` (cRT: the same training, then the head
  retrained for ``--crt-epochs`` epochs on class-balanced batches).

The test set is the balanced MNIST test folder (10,000 images). One row per
(seed, augment, method, decision) is appended to ``--out`` as soon as its fit
ends, seeds outermost, so an interrupted run keeps what it finished;
``summarize.py`` turns the rows into ``summary.md``::

    python -m benchmarks.images.run --root /tmp/i21/lt --seeds 0 1 2 3 4 --augment none crop
    python -m benchmarks.images.summarize

The folders are written by ``python -m benchmarks.images.make_mnist_lt``.
"""

import argparse
import csv
import os
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import f1_score, recall_score

from benchmarks.images.common import AUGMENTATIONS, CompactCNN, ImageFolderDataset
from skart import ARTClassifier, DecoupledClassifier

RESULTS = Path(__file__).parent / "results"
FIELDS = [
    "seed",
    "augment",
    "method",
    "decision",
    "epochs",
    "macro_f1",
    "worst_recall",
    "worst_class",
    "accuracy",
    "recalls",
    "fit_seconds",
]


def make_estimator(method, augment, seed, epochs, crt_epochs):
    """The estimator of ``method``, ready to ``fit(folder, None)``."""
    common = dict(
        module=CompactCNN,
        # module__n_features is the size of one item's input (1 * 28 * 28).
        max_epochs=epochs,
        batch_size=128,
        lr=1e-3,
        patience=None,
        decision="tuned",
        train_transform=AUGMENTATIONS[augment],
        random_state=seed,
    )
    if method == "plain":
        return ARTClassifier(art=False, **common)
    if method == "art":
        return ARTClassifier(art=True, **common)
    if method == "crt":
        return DecoupledClassifier(crt_epochs=crt_epochs, **common)
    raise ValueError(f"unknown method {method!r}")


def scores(y_true, y_pred):
    """Macro-F1, worst-class recall (and its class), accuracy, per-class recalls."""
    recalls = recall_score(y_true, y_pred, average=None)  # (n_classes,)
    return {
        "macro_f1": f1_score(y_true, y_pred, average="macro"),
        "worst_recall": recalls.min(),
        "worst_class": int(recalls.argmin()),
        "accuracy": float(np.mean(y_true == y_pred)),
        "recalls": " ".join(f"{r:.4f}" for r in recalls),
    }


def run_one(method, augment, seed, train, test, epochs, crt_epochs):
    """Fit one method; return its two rows (argmax and tuned)."""
    est = make_estimator(method, augment, seed, epochs, crt_epochs)
    start = time.perf_counter()
    est.fit(train, None)
    fit_seconds = time.perf_counter() - start
    proba = est.predict_proba(test)  # (n_test, n_classes), one pass over the PNGs
    y_test = np.asarray(test.targets)
    decisions = {
        "argmax": est.classes_[proba.argmax(1)],
        # predict's rule, without reading the test folder a second time.
        "tuned": est.classes_[np.argmax(np.log(proba) + est.decision_offsets_, axis=1)],
    }
    return [
        {
            "seed": seed,
            "augment": augment,
            "method": method,
            "decision": decision,
            "epochs": epochs,
            **scores(y_test, y_pred),
            "fit_seconds": round(fit_seconds, 2),
        }
        for decision, y_pred in decisions.items()
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--root", default="/tmp/i21/lt", help="holds train/ and test/ class folders"
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument(
        "--augment", nargs="+", default=["none", "crop"], choices=sorted(AUGMENTATIONS)
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        default=["plain", "art", "crt"],
        choices=["plain", "art", "crt"],
    )
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--crt-epochs", type=int, default=4)
    parser.add_argument("--out", default=str(RESULTS / "raw.csv"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    train = ImageFolderDataset(os.path.join(args.root, "train"))
    test = ImageFolderDataset(os.path.join(args.root, "test"))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    new = not out.exists()
    with open(out, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        if new:
            writer.writeheader()
        for seed in args.seeds:
            for augment in args.augment:
                for method in args.methods:
                    rows = run_one(
                        method, augment, seed, train, test, args.epochs, args.crt_epochs
                    )
                    writer.writerows(rows)
                    f.flush()
                    for row in rows:
                        print(
                            f"seed={seed} {augment:5s} {method:5s} {row['decision']:6s} "
                            f"F1={row['macro_f1']:.4f} worst={row['worst_recall']:.3f} "
                            f"({row['fit_seconds']:.0f} s)",
                            flush=True,
                        )


if __name__ == "__main__":
    main()
