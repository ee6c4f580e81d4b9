"""
======================================
Training on a folder of images on disk
======================================

The network estimators fit on a map-style :class:`torch.utils.data.Dataset`
as well as on arrays: ``fit(dataset, None)`` reads the labels from the
data set's ``targets`` attribute without loading any image, and a
:class:`~torch.utils.data.DataLoader` then reads the images batch by batch,
so a folder larger than memory trains as well as a small one. A
``train_transform`` augments each training image as it is read (never the
validation fold's, nor ``predict``'s).

This example writes a long-tailed folder of PNG files from scikit-learn's
bundled 8x8 digits (no download), reads it with a ten-line Dataset class,
and compares a small CNN trained with and without ART on a held-out folder.
"""

# %%
# A long-tailed folder of PNG files
# ---------------------------------
# The layout is the usual one (torchvision's ``ImageFolder`` reads it too):
# ``root/<class>/<file>.png``. Half the digits are held out for testing;
# of the other half, digit 0 keeps 90 images and each following digit fewer,
# down to 9 images of digit 9.
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from PIL import Image
from sklearn.datasets import load_digits
from sklearn.metrics import f1_score, recall_score
from sklearn.model_selection import train_test_split
from torch import nn
from torch.utils.data import Dataset

from skart import ARTClassifier

digits = load_digits()
images = (digits.images * 255 / 16).astype(np.uint8)  # (1797, 8, 8), grey levels
train_idx, test_idx = train_test_split(
    np.arange(len(images)), test_size=0.5, stratify=digits.target, random_state=0
)
rng = np.random.default_rng(0)
keep = np.concatenate(
    [
        rng.permutation(train_idx[digits.target[train_idx] == k])[
            : round(90 * 0.1 ** (k / 9))
        ]
        for k in range(10)
    ]
)
root = Path(tempfile.mkdtemp())
for split, indices in [("train", keep), ("test", test_idx)]:
    for i in indices:
        folder = root / split / str(digits.target[i])
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(images[i]).save(folder / f"{i:04d}.png")
print("training images per digit:", np.bincount(digits.target[keep]))

# %%
# A Dataset that reads the folder
# -------------------------------
# Items are ``(image, label)`` pairs; ``targets`` lists the labels, so that
# ``fit`` needs no ``y`` and loads no image to learn the classes.


class PNGFolder(Dataset):
    """``root/<class>/<file>.png`` as (float tensor (1, H, W) in [0, 1], class)."""

    def __init__(self, root):
        self.files = sorted(Path(root).glob("*/*.png"))
        self.targets = [int(file.parent.name) for file in self.files]

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        with Image.open(self.files[i]) as image:
            pixels = torch.from_numpy(np.array(image, dtype=np.float32) / 255)
        return pixels[None], self.targets[i]  # (1, 8, 8), int


train, test = PNGFolder(root / "train"), PNGFolder(root / "test")
y_test = np.array(test.targets)

# %%
# An augmentation written with torch ops
# --------------------------------------
# A random shift of up to one pixel: pad the image with a border of zeros
# and crop an 8x8 window at a random place. It draws from torch's global
# generator, which the estimator seeds (and the DataLoader seeds in each of
# its workers, with ``iterator_train__num_workers``).


def random_shift(x):  # x: (1, 8, 8)
    x = nn.functional.pad(x, (1, 1, 1, 1))  # (1, 10, 10)
    top, left = torch.randint(0, 3, (2,)).tolist()
    return x[:, top : top + 8, left : left + 8]


class TinyCNN(nn.Module):
    """One convolution block and a linear head for 8x8 grey images."""

    def __init__(self, n_classes, channels=16):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, channels, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (C, 4, 4)
            nn.Flatten(),
            nn.Linear(channels * 16, n_classes),
        )

    def forward(self, X):  # X: (n, 1, 8, 8)
        return self.net(X)


# %%
# ART against the same network without it
# ----------------------------------------
# Both read the folder through ``fit(train, None)`` with the same
# augmentation; ``art=False`` trains the network with plain cross-entropy.
# Three seeds each.
recalls, f1 = {}, {}
for name, art in [("plain", False), ("ART", True)]:
    for seed in range(3):
        clf = ARTClassifier(
            TinyCNN,
            art=art,
            lr=1e-2,
            max_epochs=40,
            batch_size=32,
            train_transform=random_shift,
            random_state=seed,
        ).fit(train, None)
        y_pred = clf.predict(test)
        recalls.setdefault(name, []).append(recall_score(y_test, y_pred, average=None))
        f1.setdefault(name, []).append(f1_score(y_test, y_pred, average="macro"))
    print(f"{name:5s} macro-F1 {np.mean(f1[name]):.3f} ± {np.std(f1[name]):.3f}")

# %%
# Per-digit recall on the held-out folder
# ---------------------------------------
# Averaged over the seeds; under each digit, its number of training images.
fig, ax = plt.subplots(figsize=(8, 3.6), layout="constrained")
classes = np.arange(10)
for offset, (name, color) in zip((-0.2, 0.2), [("plain", "0.6"), ("ART", "C0")]):
    ax.bar(
        classes + offset,
        np.mean(recalls[name], axis=0),
        width=0.4,
        label=name,
        color=color,
    )
counts = np.bincount(train.targets)
ax.set_xticks(classes, [f"{d}\n({n})" for d, n in zip(classes, counts)])
ax.set(xlabel="digit (training images)", ylabel="test recall", ylim=(0, 1.15))
ax.legend(loc="upper right", ncols=2, frameon=False)
plt.show()
