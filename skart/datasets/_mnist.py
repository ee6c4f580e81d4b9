"""MNIST and its long-tailed version MNIST-LT."""

import gzip
import struct

import numpy as np
from sklearn.utils import Bunch

from ._base import RemoteFileMetadata, _check_subset, _fetch_files
from ._long_tail import _long_tailed_indices

# yann.lecun.com now often refuses downloads; these mirrors serve LeCun's
# original .gz files (torchvision and TensorFlow Datasets use them).
_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
_CHECKSUMS = {
    # sha256 of LeCun's original .gz files. A copy re-compressed with other
    # settings has another checksum but the same content, and is accepted
    # once on disk (see _fetch_files).
    "train-images-idx3-ubyte.gz": (
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"
    ),
    "train-labels-idx1-ubyte.gz": (
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"
    ),
    "t10k-images-idx3-ubyte.gz": (
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"
    ),
}
MNIST_FILES = {
    name: RemoteFileMetadata(name, tuple(m + name for m in _MIRRORS), checksum)
    for name, checksum in _CHECKSUMS.items()
}
_SPLITS = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", 60000),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", 10000),
}

MNIST_DESCR = """\
MNIST handwritten digits
------------------------
70000 grey-level 28x28 images of the digits 0-9 (60000 train, 10000 test),
size-normalised and centred. Pixels are scaled to float32 in [0, 1].
Train counts: 0:5923 1:6742 2:5958 3:6131 4:5842 5:5421 6:5918 7:6265
8:5851 9:5949; test counts: 0:980 1:1135 2:1032 3:1010 4:982 5:892 6:958
7:1028 8:974 9:1009.

Cite: Y. LeCun, L. Bottou, Y. Bengio, P. Haffner, "Gradient-based learning
applied to document recognition", Proc. IEEE 86(11):2278-2324, 1998.
"""


def _read_idx(path, ndim):
    """Read a gzipped IDX file of unsigned bytes with ``ndim`` dimensions."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    header = 4 + 4 * ndim
    magic, *shape = struct.unpack(f">{1 + ndim}i", raw[:header])
    # Magic number: 0x08 (unsigned byte) in the third byte, ndim in the fourth.
    if magic != 0x800 + ndim or len(raw) != header + int(np.prod(shape)):
        raise ValueError(
            f"{path} is not a valid IDX file of {ndim}-d unsigned bytes (magic "
            f"{magic}, {len(raw)} bytes); delete it and fetch again."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _load_mnist(data_home, subset, download_if_missing):
    """Return uint8 images (n, 28, 28) and int64 labels of ``subset``."""
    _check_subset(subset)
    splits = ["train", "test"] if subset == "all" else [subset]
    images, labels = [], []
    for split in splits:
        image_file, label_file, n = _SPLITS[split]
        image_path, label_path = _fetch_files(
            "mnist",
            [MNIST_FILES[image_file], MNIST_FILES[label_file]],
            data_home,
            download_if_missing,
        )
        X, y = _read_idx(image_path, 3), _read_idx(label_path, 1)
        if X.shape != (n, 28, 28) or y.shape != (n,):
            raise ValueError(
                f"MNIST {split} files hold {X.shape} images and {y.shape} labels, "
                f"expected ({n}, 28, 28) and ({n},)."
            )
        images.append(X)
        labels.append(y)
    return np.concatenate(images), np.concatenate(labels).astype(np.int64)


def _mnist_bunch(images, labels, flatten, return_X_y, descr, **extra):
    # float32 in [0, 1]: the dtype torch modules expect, and half the memory
    # of float64 (70000 images take 220 MB).
    X = np.divide(images, 255, dtype=np.float32)
    X = X.reshape(len(X), -1) if flatten else X[:, np.newaxis]
    if return_X_y:
        return X, labels
    return Bunch(
        data=X, target=labels, target_names=np.arange(10), DESCR=descr, **extra
    )


def fetch_mnist(
    data_home=None,
    *,
    subset="train",
    flatten=False,
    download_if_missing=True,
    return_X_y=False,
):
    """Load the MNIST handwritten digits (10 balanced classes).

    =================   ==============
    Samples             60000 train + 10000 test
    Features            28 x 28 pixels, float32 in [0, 1]
    Classes             10 (digits 0-9), 5421 to 6742 per class in train
    =================   ==============

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding the data sets, see :func:`get_data_home`. The four
        files are looked for in ``<data_home>/mnist/`` under LeCun's names
        (``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``,
        ``t10k-images-idx3-ubyte.gz``, ``t10k-labels-idx1-ubyte.gz``).
    subset : {"train", "test", "all"}, default="train"
        Which split to load; "all" is train followed by test.
    flatten : bool, default=False
        If False, images have shape (n, 1, 28, 28) (channel first, ready for
        a convolutional torch module); if True, (n, 784).
    download_if_missing : bool, default=True
        If False, raise an OSError when a file is not on disk instead of
        downloading it.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` float32 array of pixels divided by 255, shape (n, 1, 28, 28)
        or (n, 784); ``target`` int64 digits; ``target_names``
        (``arange(10)``); ``DESCR``.
    (data, target) : tuple if ``return_X_y`` is True

    References
    ----------
    .. [1] Y. LeCun, L. Bottou, Y. Bengio, P. Haffner, "Gradient-based
       learning applied to document recognition", Proc. IEEE 86(11), 1998.

    Examples
    --------
    >>> from skart.datasets import fetch_mnist
    >>> X, y = fetch_mnist(subset="test", return_X_y=True)  # doctest: +SKIP
    >>> X.shape, X.dtype  # doctest: +SKIP
    ((10000, 1, 28, 28), dtype('float32'))
    """
    images, labels = _load_mnist(data_home, subset, download_if_missing)
    return _mnist_bunch(images, labels, flatten, return_X_y, MNIST_DESCR)


def fetch_mnist_lt(
    data_home=None,
    *,
    imbalance_factor=0.01,
    n_max=1500,
    random_state=0,
    subset="train",
    flatten=False,
    download_if_missing=True,
    return_X_y=False,
):
    """Load MNIST-LT, MNIST subsampled to an exponential long-tailed profile.

    Digit ``k`` keeps ``round(n_max * imbalance_factor ** (k / 9))`` images
    drawn without replacement, so digit 0 is the head class (``n_max``) and
    digit 9 the tail class (``n_max * imbalance_factor``). With the defaults
    the counts are 1500, 899, 539, 323, 194, 116, 70, 42, 25, 15 (3723
    images, imbalance ratio 100). See :func:`make_long_tailed`.

    Parameters
    ----------
    data_home : str or path-like, default=None
        See :func:`fetch_mnist`.
    imbalance_factor : float in (0, 1], default=0.01
        Size of the tail class relative to the head class.
    n_max : int or None, default=1500
        Size of the head class (digit 0). If None, the largest value every
        digit can fill.
    random_state : int, RandomState instance or None, default=0
        Controls which images are kept. The default makes the data set
        reproducible.
    subset : {"train", "test", "all"}, default="train"
        The MNIST split to subsample. Long-tailed benchmarks usually train on
        MNIST-LT and test on the balanced ``fetch_mnist(subset="test")``;
        the test split has at most 1135 images per digit, so subsampling it
        needs a smaller ``n_max`` (e.g. 890).
    flatten : bool, default=False
        If False, images have shape (n, 1, 28, 28); if True, (n, 784).
    download_if_missing : bool, default=True
        If False, raise an OSError when a file is not on disk instead of
        downloading it.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` float32 images in [0, 1]; ``target`` int64 digits;
        ``target_names``; ``indices`` the positions of the kept images in
        ``fetch_mnist(subset=subset)``, in increasing order; ``class_counts``
        the profile (digits 0 to 9); ``DESCR``.
    (data, target) : tuple if ``return_X_y`` is True

    Raises
    ------
    ValueError
        If the profile asks for more images of a digit than the split has.

    References
    ----------
    .. [1] K. Cao, C. Wei, A. Gaidon, N. Arechiga, T. Ma, "Learning
       Imbalanced Datasets with Label-Distribution-Aware Margin Loss",
       NeurIPS 2019.
    .. [2] A. Basandrai, S. Jain, K. Ilanthenral, "ART: Adaptive
       Resampling-based Training for Imbalanced Classification",
       arXiv:2509.00955, 2025.

    Examples
    --------
    >>> import numpy as np
    >>> from skart.datasets import fetch_mnist_lt
    >>> X, y = fetch_mnist_lt(return_X_y=True)  # doctest: +SKIP
    >>> np.bincount(y).tolist()  # doctest: +SKIP
    [1500, 899, 539, 323, 194, 116, 70, 42, 25, 15]
    """
    images, labels = _load_mnist(data_home, subset, download_if_missing)
    indices = _long_tailed_indices(
        labels,
        imbalance_factor=imbalance_factor,
        n_max=n_max,
        order=range(10),
        random_state=random_state,
    )
    counts = np.bincount(labels[indices], minlength=10)
    descr = (
        f"MNIST-LT: MNIST {subset} subsampled to an exponential long-tailed "
        f"profile (imbalance_factor={imbalance_factor}, n_max={n_max}, "
        f"random_state={random_state!r}); digit k keeps "
        "round(n_max * imbalance_factor ** (k / 9)) images: "
        f"{counts.tolist()}.\n\n" + MNIST_DESCR
    )
    return _mnist_bunch(
        images[indices],
        labels[indices],
        flatten,
        return_X_y,
        descr,
        indices=indices,
        class_counts=counts,
    )
