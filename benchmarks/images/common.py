"""The CNN, the PNG folder data set and the augmentations of the image benchmark.

torchvision is not used: the torchvision wheel that pip pairs with the pinned
torch 2.13.0 (0.28.0) is PyPI's CUDA build, whose C++ ops do not load beside
the CPU torch, and ``import torchvision`` then fails ("operator
torchvision::nms does not exist"). :class:`ImageFolderDataset` reads the same
layout as torchvision's ``ImageFolder`` (and in the same order), with Pillow;
the augmentations are written with torch ops. All of them act on one item
(a float tensor of shape (1, 28, 28)), as a DataLoader worker calls them, and
draw their randomness from torch's global generator, which the DataLoader
seeds in each worker.
"""

import math
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import Dataset

# The paper harness's network for MNIST-LT (the ART paper, Section 4.1, says
# only "a compact CNN"): two 3x3 conv blocks of width and 2 * width channels
# with max pooling, dropout and a linear head. It takes (n, 1, 28, 28).
from benchmarks.paper.methods import CNN_DEFAULT_WIDTH, CompactCNN

__all__ = [
    "AUGMENTATIONS",
    "CompactCNN",
    "Compose",
    "ImageFolderDataset",
    "RandomAffine",
    "RandomCrop",
    "load_png",
    "make_cnn",
]


def make_cnn(width=CNN_DEFAULT_WIDTH, n_classes=10):
    """A fresh :class:`CompactCNN` for 28x28 grey images."""
    return CompactCNN(n_features=28 * 28, n_classes=n_classes, width=width)


def load_png(path):
    """Read a grey PNG as a float32 tensor of shape (1, H, W) in [0, 1]."""
    with Image.open(path) as image:
        pixels = np.array(image.convert("L"), dtype=np.float32)  # (H, W), writable
    return torch.from_numpy(pixels).div_(255).unsqueeze(0)


class ImageFolderDataset(Dataset):
    """Images in ``root/<class>/<file>``, as torchvision's ``ImageFolder`` reads them.

    Classes are the sorted names of ``root``'s subfolders, numbered in that
    order; items are sorted by class, then by file name. An item is
    ``(transform(loader(path)), class_index)``.

    Attributes
    ----------
    classes : list of str
    class_to_idx : dict
    samples : list of (str, int)
        File path and class index of each item.
    targets : list of int
        The class index of each item (what a training loop reads labels from).
    """

    def __init__(self, root, transform=None, loader=load_png):
        self.root = os.fspath(root)
        self.transform = transform
        self.loader = loader
        self.classes = sorted(e.name for e in os.scandir(self.root) if e.is_dir())
        if not self.classes:
            raise FileNotFoundError(f"no class folders in {self.root}")
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}
        self.samples = [
            (os.path.join(self.root, name, file), self.class_to_idx[name])
            for name in self.classes
            for file in sorted(os.listdir(os.path.join(self.root, name)))
        ]
        self.targets = [target for _, target in self.samples]

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, index):
        path, target = self.samples[index]
        x = self.loader(path)
        if self.transform is not None:
            x = self.transform(x)
        return x, target


class RandomCrop:
    """Pad each side with ``padding`` zeros, then crop a random ``size`` x ``size`` window."""

    def __init__(self, size=28, padding=2):
        self.size = size
        self.padding = padding

    def __call__(self, x):  # x: (C, H, W)
        p = self.padding
        x = F.pad(x, (p, p, p, p))  # (C, H + 2p, W + 2p)
        top = int(torch.randint(0, x.shape[1] - self.size + 1, ()))
        left = int(torch.randint(0, x.shape[2] - self.size + 1, ()))
        return x[:, top : top + self.size, left : left + self.size]

    def __repr__(self):
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomAffine:
    """Rotate by up to ``degrees`` and shift by up to ``translate`` of the side.

    Bilinear resampling, zeros outside the image (MNIST's background).
    """

    def __init__(self, degrees=10.0, translate=0.1):
        self.degrees = degrees
        self.translate = translate

    def __call__(self, x):  # x: (C, H, W)
        u = torch.rand(3) * 2 - 1  # (3,) uniform in [-1, 1)
        angle = math.radians(self.degrees) * float(u[0])
        # affine_grid's coordinates run over [-1, 1]: a shift of a fraction f
        # of the side is 2f there.
        tx, ty = (2 * self.translate * u[1:]).tolist()
        cos, sin = math.cos(angle), math.sin(angle)
        theta = torch.tensor([[[cos, -sin, tx], [sin, cos, ty]]], dtype=x.dtype)
        grid = F.affine_grid(theta, [1, *x.shape], align_corners=False)  # (1, H, W, 2)
        return F.grid_sample(x[None], grid, align_corners=False)[0]

    def __repr__(self):
        return f"RandomAffine(degrees={self.degrees}, translate={self.translate})"


class Compose:
    """Apply ``transforms`` in turn."""

    def __init__(self, *transforms):
        self.transforms = transforms

    def __call__(self, x):
        for transform in self.transforms:
            x = transform(x)
        return x

    def __repr__(self):
        return f"Compose{self.transforms!r}"


# The augmentations the benchmark compares, by name (None: none).
AUGMENTATIONS = {
    "none": None,
    "crop": RandomCrop(28, padding=2),
    "affine": RandomAffine(degrees=10, translate=0.1),
}
