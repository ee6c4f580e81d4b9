"""The hand-written reference loop over a PNG folder: seconds per image per epoch.

A plain PyTorch loop: :class:`~benchmarks.images.common.ImageFolderDataset`
(the PNG is decoded and the augmentation applied per item, in the loader's
workers), ``DataLoader(num_workers=W, shuffle=True, batch_size=B)``, Adam and
cross-entropy. Issue 21 asks the estimators' data set path to stay within
1.10x of its time per image. The clock covers the epochs only: the folder
scan, the model's construction and a warm-up step are outside it, the workers' start-up
(once per epoch, the loader not being persistent, as skorch's is not) inside::

    python -m benchmarks.images.hand_loop --root /tmp/mnist_lt/train --workers 0 2
    python -m benchmarks.images.hand_loop --root /tmp/mnist_lt/train --augment none crop --json out.json

One torch thread in the training process (``--threads``).
"""

import argparse
import json
import time

import torch
from torch import nn
from torch.utils.data import DataLoader

from benchmarks.images.common import AUGMENTATIONS, ImageFolderDataset, make_cnn


def _warm_up(dataset, module_factory, batch_size):
    """Read one item and take one Adam step of a throwaway model: a process's
    first PNG decode, convolution and Adam step pay one-off set-up costs
    (tenths of a second in all) that are not the loop's."""
    dataset[0]
    model = module_factory()
    optimizer = torch.optim.Adam(model.parameters())
    model(torch.zeros(batch_size, 1, 28, 28)).sum().backward()
    optimizer.step()


def time_hand_loop(
    root,
    module_factory=make_cnn,
    transform=None,
    workers=0,
    batch_size=128,
    epochs=1,
    seed=0,
    lr=1e-3,
):
    """Train ``module_factory()`` on the folder ``root``; return seconds per image per epoch.

    Parameters
    ----------
    root : str or path-like
        A folder of class folders of PNG files (e.g. ``<out>/train`` of
        ``make_mnist_lt``).
    module_factory : callable, default=make_cnn
        Returns a fresh module mapping (n, 1, 28, 28) to logits.
    transform : callable or None, default=None
        Applied to each training item's (1, 28, 28) tensor, in the workers.
    workers : int, default=0
        The DataLoader's ``num_workers``.
    batch_size : int, default=128
    epochs : int, default=1
    seed : int, default=0
        Seeds the module's initial weights, the shuffling and the
        augmentations (the loader seeds each worker from it).
    lr : float, default=1e-3
        Adam's learning rate.

    Returns
    -------
    seconds_per_image : float
        Wall time of the epochs over ``epochs * len(dataset)``.
    """
    dataset = ImageFolderDataset(root, transform=transform)
    _warm_up(dataset, module_factory, batch_size)
    torch.manual_seed(seed)
    model = module_factory()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    criterion = nn.CrossEntropyLoss()
    loader = DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=True,
        num_workers=workers,
        generator=torch.Generator().manual_seed(seed),
    )
    model.train()
    start = time.perf_counter()
    for _ in range(epochs):
        for X, y in loader:  # X: (B, 1, 28, 28), y: (B,)
            optimizer.zero_grad()
            loss = criterion(model(X), y)
            loss.backward()
            optimizer.step()
    seconds = time.perf_counter() - start
    return seconds / (epochs * len(dataset))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", required=True, help="folder of class folders of PNGs")
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    parser.add_argument(
        "--augment", nargs="+", default=["none", "crop"], choices=sorted(AUGMENTATIONS)
    )
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument(
        "--repeats", type=int, default=1, help="runs per setting; the best is kept"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads of the trainer"
    )
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    n_images = len(ImageFolderDataset(args.root))
    print(
        f"{args.root}: {n_images} images, batch {args.batch_size}, {args.epochs} epoch(s)"
    )
    rows = []
    for augment in args.augment:
        for workers in args.workers:
            times = [
                time_hand_loop(
                    args.root,
                    transform=AUGMENTATIONS[augment],
                    workers=workers,
                    batch_size=args.batch_size,
                    epochs=args.epochs,
                    seed=args.seed,
                )
                for _ in range(args.repeats)
            ]
            best = min(times)
            rows.append(
                {
                    "augment": augment,
                    "workers": workers,
                    "seconds_per_image": best,
                    "all": times,
                }
            )
            print(
                f"augment={augment:6s} workers={workers}  {best * 1e6:8.1f} us/image  "
                f"({1 / best:7.0f} images/s, {best * n_images:6.2f} s/epoch)"
            )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    "root": str(args.root),
                    "n_images": n_images,
                    **vars(args),
                    "rows": rows,
                },
                f,
                indent=1,
            )
    return rows


if __name__ == "__main__":
    main()
