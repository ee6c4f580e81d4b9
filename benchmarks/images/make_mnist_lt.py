"""Write MNIST-LT (or a plain MNIST subsample) as PNG files in class folders.

The layout is the one image folder readers expect (torchvision's
``ImageFolder``, :class:`benchmarks.images.common.ImageFolderDataset`)::

    <out>/train/<digit>/<index>.png     the training images
    <out>/test/<digit>/<index>.png      the full, balanced MNIST test set

``<index>`` is the image's position in its MNIST split (five digits), so a
file can be traced back to the idx files. Each PNG is an 8-bit grey 28x28
image holding MNIST's bytes unchanged.

MNIST-LT is the long-tailed training set of the ART paper (Basandrai et al.,
arXiv:2509.00955, Section 4.1 "Experimental Setup"): "MNIST-LT was prepared
with an imbalance factor of 0.01, and the number of samples for the majority
class was set to 1500. All samples were randomly selected according to the
imbalance factor." The paper does not give the profile's shape nor which
digits are rare; this script takes those from
:func:`skart.datasets.fetch_mnist_lt`, the usual exponential profile of the
long-tailed benchmarks (Cao et al., 2019): digit ``k`` keeps
``round(1500 * 0.01 ** (k / 9))`` images drawn without replacement (seeded),
so digit 0 is the head and digit 9 the tail::

    1500, 899, 539, 323, 194, 116, 70, 42, 25, 15   (3723 images)

The paper then splits MNIST-LT itself 70/15/15 into train, validation and
test; here the test folder is the balanced MNIST test set instead (the usual
long-tail protocol), and the training folder is all of MNIST-LT, to be split
by whoever trains on it.

``--n-images N`` writes a plain, near-balanced MNIST training folder of N
images instead (stratified, seeded; 60000 is the whole training split): the
10k- and 60k-image folders of the memory benchmark. ``--small`` writes a tiny
version in a second or so, for tests::

    python -m benchmarks.images.make_mnist_lt --data-home ../shared/data --out /tmp/mnist_lt
    python -m benchmarks.images.make_mnist_lt --data-home ../shared/data --out /tmp/mnist60k --n-images 60000
    python -m benchmarks.images.make_mnist_lt --data-home ../shared/data --out /tmp/tiny --small

MNIST's four idx files are read from ``<data-home>/mnist/`` (never
downloaded). PNG files are written with Pillow by ``--workers`` processes.
"""

import argparse
import os
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.model_selection import train_test_split

from skart.datasets import fetch_mnist, fetch_mnist_lt

# --small: an exponential profile from 30 to 3 images, 5 test images a digit.
SMALL = {"n_max": 30, "imbalance": 10, "test_per_class": 5}


def _uint8(images):
    """MNIST's bytes back from skart's float32 pixels (exact: they are b / 255)."""
    return np.rint(images[:, 0] * 255).astype(np.uint8)  # (n, 28, 28)


def _write_pngs(job):
    paths, images = job
    for path, image in zip(paths, images):
        Image.fromarray(image).save(path, format="PNG")
    return len(paths)


def _split_jobs(paths, images, n_jobs):
    bounds = np.linspace(0, len(paths), n_jobs + 1).astype(int)
    return [
        (paths[lo:hi], images[lo:hi])
        for lo, hi in zip(bounds[:-1], bounds[1:])
        if hi > lo
    ]


def _folder_jobs(root, images, labels, indices):
    """Make ``root/<digit>/`` and return the file paths of ``images``."""
    for digit in np.unique(labels).tolist():
        (root / str(digit)).mkdir(parents=True, exist_ok=True)
    return [
        str(root / str(label) / f"{index:05d}.png")
        for label, index in zip(labels.tolist(), indices.tolist())
    ]


def _test_indices(labels, per_class):
    """All test images, or the first ``per_class`` of each digit."""
    if per_class is None:
        return np.arange(len(labels))
    keep = [np.flatnonzero(labels == d)[:per_class] for d in range(10)]
    return np.sort(np.concatenate(keep))


def make_mnist_lt(
    data_home,
    out,
    *,
    imbalance=100,
    n_max=1500,
    n_images=None,
    test_per_class=None,
    seed=0,
    workers=2,
):
    """Write the training and test folders; return the per-digit counts.

    Parameters
    ----------
    data_home : str or path-like
        Folder holding ``mnist/`` with MNIST's four idx ``.gz`` files.
    out : str or path-like
        Folder to write ``train/`` and ``test/`` into; they must not exist yet
        or be empty.
    imbalance : float, default=100
        Imbalance ratio of MNIST-LT, head over tail (the paper's imbalance
        factor 0.01 is ``1 / imbalance``).
    n_max : int, default=1500
        Images of the head digit (0).
    n_images : int or None, default=None
        If given, write a stratified subsample of this many MNIST training
        images (60000: all of them) instead of MNIST-LT.
    test_per_class : int or None, default=None
        If given, only the first this many test images of each digit; else
        the full test set (10000 images).
    seed : int, default=0
        Seeds the choice of training images.
    workers : int, default=2
        Processes that write the PNG files.

    Returns
    -------
    counts : dict
        ``{"train": [...], "test": [...]}``, images per digit 0 to 9.
    """
    out = Path(out)
    for split in ("train", "test"):
        if (out / split).exists() and any((out / split).iterdir()):
            raise FileExistsError(
                f"{out / split} is not empty; remove it or choose another --out."
            )
    if n_images is None:
        train = fetch_mnist_lt(
            data_home,
            imbalance_factor=1 / imbalance,
            n_max=n_max,
            random_state=seed,
            download_if_missing=False,
        )
        train_images, train_labels = _uint8(train.data), train.target
        train_indices = train.indices
    else:
        full = fetch_mnist(data_home, subset="train", download_if_missing=False)
        train_indices = np.arange(len(full.target))
        if n_images < len(train_indices):
            train_indices, _ = train_test_split(
                train_indices,
                train_size=n_images,
                stratify=full.target,
                random_state=seed,
            )
            train_indices = np.sort(train_indices)
        train_images = _uint8(full.data[train_indices])
        train_labels = full.target[train_indices]
        del full
    test = fetch_mnist(data_home, subset="test", download_if_missing=False)
    test_indices = _test_indices(test.target, test_per_class)
    test_images, test_labels = (
        _uint8(test.data[test_indices]),
        test.target[test_indices],
    )

    paths = _folder_jobs(out / "train", train_images, train_labels, train_indices)
    paths += _folder_jobs(out / "test", test_images, test_labels, test_indices)
    images = np.concatenate([train_images, test_images])
    if workers > 1:
        with Pool(workers) as pool:
            written = sum(
                pool.map(_write_pngs, _split_jobs(paths, images, 4 * workers))
            )
    else:
        written = _write_pngs((paths, images))
    assert written == len(paths)
    return {
        "train": np.bincount(train_labels, minlength=10).tolist(),
        "test": np.bincount(test_labels, minlength=10).tolist(),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-home", required=True, help="folder holding mnist/")
    parser.add_argument(
        "--out", required=True, help="folder to write train/ and test/ into"
    )
    parser.add_argument(
        "--imbalance", type=float, default=100, help="head / tail (default 100)"
    )
    parser.add_argument(
        "--n-max", type=int, default=1500, help="images of digit 0 (default 1500)"
    )
    parser.add_argument(
        "--n-images",
        type=int,
        default=None,
        help="write a stratified subsample of N MNIST training images instead of MNIST-LT (60000: all)",
    )
    parser.add_argument(
        "--test-per-class", type=int, default=None, help="default: the full test set"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument(
        "--small",
        action="store_true",
        help=f"a tiny MNIST-LT for tests: {SMALL}",
    )
    args = parser.parse_args(argv)
    options = {
        "imbalance": args.imbalance,
        "n_max": args.n_max,
        "n_images": args.n_images,
        "test_per_class": args.test_per_class,
    }
    if args.small:
        options.update(SMALL)
    start = time.perf_counter()
    counts = make_mnist_lt(
        args.data_home, args.out, seed=args.seed, workers=args.workers, **options
    )
    seconds = time.perf_counter() - start
    for split, per_digit in counts.items():
        print(f"{split:5s} {sum(per_digit):6d} images, per digit 0-9: {per_digit}")
    print(
        f"wrote {sum(map(sum, counts.values()))} PNG files to {args.out} in {seconds:.1f} s"
    )
    return counts


if __name__ == "__main__":
    main()
