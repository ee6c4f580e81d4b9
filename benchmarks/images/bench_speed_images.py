"""Seconds per image of an estimator's data set path against a hand-written loop.

The estimator is ``ARTClassifier(art=False, module=CompactCNN,
train_transform=T, iterator_train__num_workers=W, batch_size=128,
max_epochs=E, patience=None)`` fitted on
:class:`~benchmarks.images.common.ImageFolderDataset` with ``fit(folder,
None)``; its clock covers the whole ``fit`` (labels, split, building the
network, the epochs, the tuned nothing: ``decision="argmax"``).

It trains on 85% of the items and, each epoch, scores the other 15% (its
validation fold). Two hand loops are timed beside it, with the same module,
transform, workers, batch size and optimiser (fused AdamW at lr 1e-3, the
cosine schedule stepped per epoch, as the estimator's):

- ``hand+valid`` does the estimator's work: it trains on a stratified 85% of
  the items and makes one no-grad pass over the other 15% per epoch
  (batches of 512 and no workers, as the estimator's validation loader);
- ``hand-train`` trains on the same 85% and does nothing else.

Their clock covers the epochs only (the folder scan, the model's
construction and a warm-up are outside it, the workers' start-up once per
epoch inside), so the ratios charge the estimator with all its set-up.
Every time is divided by ``E * len(folder)``: seconds per image of the folder
per epoch. Runs are interleaved (estimator, hand+valid, hand-train, repeat),
medians and spreads are reported, and the ratios are of medians of the same
run::

    python -m benchmarks.images.bench_speed_images --root /tmp/i21/lt/train --workers 0 2 --augment none crop --repeats 3

``--profile PATH`` instead runs one estimator fit and one hand+valid loop
under cProfile and writes their top functions (cumulative time) to PATH.
One torch thread in the training process.
"""

import argparse
import cProfile
import io
import json
import pstats
import statistics
import time

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from torch import nn
from torch.utils.data import DataLoader, Subset

from benchmarks.images.common import AUGMENTATIONS, CompactCNN, ImageFolderDataset
from benchmarks.images.hand_loop import _warm_up
from skart import ARTClassifier

VALID_FRACTION = 0.15


def make_cnn():
    return CompactCNN(n_features=28 * 28, n_classes=10)


def time_estimator(root, transform, workers, epochs, seed=0, batch_size=128):
    """Seconds of one ``fit(folder, None)``."""
    dataset = ImageFolderDataset(root)
    est = ARTClassifier(
        art=False,
        module=CompactCNN,
        train_transform=transform,
        iterator_train__num_workers=workers,
        batch_size=batch_size,
        max_epochs=epochs,
        patience=None,
        validation_fraction=VALID_FRACTION,
        random_state=seed,
    )
    start = time.perf_counter()
    est.fit(dataset, None)
    return time.perf_counter() - start


def time_hand(root, transform, workers, epochs, validate, seed=0, batch_size=128):
    """Seconds of the epochs of the hand loop (see the module's docstring)."""
    plain = ImageFolderDataset(root)
    augmented = ImageFolderDataset(root, transform=transform)
    train_idx, valid_idx = train_test_split(
        np.arange(len(plain)),
        test_size=VALID_FRACTION,
        stratify=plain.targets,
        random_state=seed,
    )
    torch.manual_seed(seed)
    model = make_cnn()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, fused=True)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    criterion = nn.CrossEntropyLoss()
    train_loader = DataLoader(
        Subset(augmented, train_idx),
        batch_size=batch_size,
        shuffle=True,
        num_workers=workers,
        generator=torch.Generator().manual_seed(seed),
    )
    valid_loader = DataLoader(Subset(plain, valid_idx), batch_size=4 * batch_size)
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        for X, y in train_loader:  # X: (B, 1, 28, 28), y: (B,)
            optimizer.zero_grad()
            loss = criterion(model(X), y)
            loss.backward()
            optimizer.step()
        if validate:
            model.eval()
            with torch.no_grad():
                for X, y in valid_loader:
                    criterion(model(X), y).item()
        schedule.step()
    return time.perf_counter() - start


RUNNERS = {
    "estimator": lambda root, t, w, e: time_estimator(root, t, w, e),
    "hand+valid": lambda root, t, w, e: time_hand(root, t, w, e, validate=True),
    "hand-train": lambda root, t, w, e: time_hand(root, t, w, e, validate=False),
}


def profile(root, transform, workers, epochs, path):
    """Write cProfile's top functions of one estimator fit and one hand+valid loop."""
    out = io.StringIO()
    for name in ("estimator", "hand+valid"):
        profiler = cProfile.Profile()
        profiler.enable()
        seconds = RUNNERS[name](root, transform, workers, epochs)
        profiler.disable()
        out.write(f"===== {name}: {seconds:.2f} s =====\n")
        stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
        stats.print_stats(45)
        stats.sort_stats("tottime").print_stats(25)
    with open(path, "w") as f:
        f.write(out.getvalue())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default="/tmp/i21/lt/train")
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    parser.add_argument(
        "--augment", nargs="+", default=["none", "crop"], choices=sorted(AUGMENTATIONS)
    )
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", help="also write the rows to this file")
    parser.add_argument("--profile", help="profile one setting into this file instead")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    n_images = len(ImageFolderDataset(args.root))
    _warm_up(ImageFolderDataset(args.root), make_cnn, 128)
    if args.profile:
        profile(
            args.root,
            AUGMENTATIONS[args.augment[0]],
            args.workers[0],
            args.epochs,
            args.profile,
        )
        return None
    # A process's first fit pays one-off costs (imports, first kernels).
    time_estimator(args.root, None, 0, 1)
    print(f"{args.root}: {n_images} images, batch 128, {args.epochs} epochs")
    rows = []
    for augment in args.augment:
        for workers in args.workers:
            times = {name: [] for name in RUNNERS}
            for _ in range(args.repeats):
                for name, runner in RUNNERS.items():
                    seconds = runner(
                        args.root, AUGMENTATIONS[augment], workers, args.epochs
                    )
                    times[name].append(seconds / (args.epochs * n_images))
            med = {name: statistics.median(t) for name, t in times.items()}
            row = {
                "augment": augment,
                "workers": workers,
                "us_per_image": {k: v * 1e6 for k, v in med.items()},
                "all_us": {k: [round(s * 1e6, 1) for s in v] for k, v in times.items()},
                "ratio_vs_hand_valid": med["estimator"] / med["hand+valid"],
                "ratio_vs_hand_train": med["estimator"] / med["hand-train"],
                # The spread of the ratio over the repeats, run by run.
                "ratios_vs_hand_valid": [
                    e / h for e, h in zip(times["estimator"], times["hand+valid"])
                ],
            }
            rows.append(row)
            print(
                f"augment={augment:5s} W={workers}  "
                + "  ".join(
                    f"{k} {v * 1e6:6.0f} us ({min(times[k]) * 1e6:.0f}-{max(times[k]) * 1e6:.0f})"
                    for k, v in med.items()
                )
                + f"  ratio est/hand+valid {row['ratio_vs_hand_valid']:.3f}"
                f"  est/hand-train {row['ratio_vs_hand_train']:.3f}"
                f"  per-repeat {' '.join(f'{r:.2f}' for r in row['ratios_vs_hand_valid'])}",
                flush=True,
            )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"n_images": n_images, **vars(args), "rows": rows}, f, indent=1)
    return rows


if __name__ == "__main__":
    main()
