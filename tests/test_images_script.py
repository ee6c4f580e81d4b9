"""The image benchmark's pieces (issue 21): the PNG folder script at its small
size, the folder data set, the augmentations and the hand-written loop."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("PIL")

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmarks/ lives beside the package, not in it
    sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from benchmarks.images import common, hand_loop, make_mnist_lt  # noqa: E402
from skart.datasets import fetch_mnist, fetch_mnist_lt  # noqa: E402


@pytest.fixture(scope="module")
def small_folder(shared_data, tmp_path_factory):
    if not (shared_data / "mnist").is_dir():
        pytest.skip(f"MNIST not found in {shared_data}")
    out = tmp_path_factory.mktemp("mnist_lt")
    counts = make_mnist_lt.main(
        ["--data-home", str(shared_data), "--out", str(out), "--small"]
    )
    return shared_data, out, counts


def test_small_mnist_lt_folders(small_folder, capsys):
    shared_data, out, counts = small_folder
    expected = fetch_mnist_lt(
        shared_data, n_max=30, imbalance_factor=0.1, download_if_missing=False
    )
    assert counts["train"] == expected.class_counts.tolist()
    assert counts["train"] == [30, 23, 18, 14, 11, 8, 6, 5, 4, 3]
    assert counts["test"] == [5] * 10
    for split in ("train", "test"):
        assert sorted(p.name for p in (out / split).iterdir()) == [
            str(d) for d in range(10)
        ]
        on_disk = [len(list((out / split / str(d)).glob("*.png"))) for d in range(10)]
        assert on_disk == counts[split]
    # The files hold MNIST's bytes: the names are positions in the split.
    names = sorted(int(p.stem) for p in (out / "train").glob("*/*.png"))
    assert names == expected.indices.tolist()
    test = fetch_mnist(shared_data, subset="test", download_if_missing=False)
    for path in list((out / "test" / "7").glob("*.png"))[:2]:
        with Image.open(path) as image:
            assert image.mode == "L" and image.size == (28, 28)
            pixels = np.asarray(image)
        assert np.array_equal(pixels, np.rint(test.data[int(path.stem), 0] * 255))
        assert test.target[int(path.stem)] == 7
    # A second run into the same folder is refused rather than mixed in.
    with pytest.raises(FileExistsError, match="not empty"):
        make_mnist_lt.make_mnist_lt(shared_data, out, n_max=30, imbalance=10)


def test_folder_dataset_reads_items_and_targets(small_folder):
    _, out, counts = small_folder
    dataset = common.ImageFolderDataset(out / "train")
    assert dataset.classes == [str(d) for d in range(10)]
    assert len(dataset) == sum(counts["train"])
    assert np.bincount(dataset.targets).tolist() == counts["train"]
    x, y = dataset[len(dataset) - 1]
    assert x.shape == (1, 28, 28) and x.dtype == torch.float32 and y == 9
    assert 0 <= float(x.min()) and float(x.max()) <= 1 and float(x.max()) > 0.5


@pytest.mark.parametrize("name", ["crop", "affine"])
def test_augmentations_keep_shape_and_vary(name):
    augment = common.AUGMENTATIONS[name]
    x = torch.zeros(1, 28, 28)
    x[:, 10:18, 12:16] = 1.0
    outs = [augment(x) for _ in range(8)]
    assert all(o.shape == (1, 28, 28) and o.dtype == torch.float32 for o in outs)
    assert any(not torch.equal(o, outs[0]) for o in outs[1:])
    # Small moves: the stroke stays in the picture.
    assert all(float(o.sum()) > 0.5 * float(x.sum()) for o in outs)


def test_hand_loop_times_an_epoch(small_folder):
    _, out, counts = small_folder
    seconds = hand_loop.time_hand_loop(
        out / "train",
        lambda: common.make_cnn(width=4),
        transform=common.AUGMENTATIONS["crop"],
        workers=0,
        batch_size=32,
        epochs=1,
        seed=0,
    )
    assert 0 < seconds < 1
