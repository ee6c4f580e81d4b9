"""The 27 binary benchmark sets of imbalanced-learn (Ding, 2011), one at a time."""

from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ._base import RemoteFileMetadata, _fetch_files, get_data_home

# imbalanced-learn's order: the set with ID i is ``x{i}data.npz``.
IMBLEARN_BENCHMARK_NAMES = (
    "ecoli",
    "optical_digits",
    "satimage",
    "pen_digits",
    "abalone",
    "sick_euthyroid",
    "spectrometer",
    "car_eval_34",
    "isolet",
    "us_crime",
    "yeast_ml8",
    "scene",
    "libras_move",
    "thyroid_sick",
    "coil_2000",
    "arrhythmia",
    "solar_flare_m0",
    "oil",
    "car_eval_4",
    "wine_quality",
    "letter_img",
    "yeast_me2",
    "webpage",
    "ozone_level",
    "mammography",
    "protein_homo",
    "abalone_19",
)

# The files of Zenodo record 61452 (the archive imbalanced-learn downloads),
# as kept byte for byte in a public repository at a pinned commit. Five sets
# are not in that copy (isolet, scene, coil_2000, webpage, protein_homo): they
# are too large for it, so no checksum of ours exists for them.
_MIRROR = (
    "https://raw.githubusercontent.com/buptss/OverSample/"
    "c553b5631ea88f8eab20c098f1930c4105850a7b/data/zenodo/"
)
_CHECKSUMS = {
    1: "126f2ec169536858333f98f5d80663e9f066d931cdd302f16941fc25a274ca8b",
    2: "6c492eb49a32a79ad8948d6764ae04381af8a7ceb5883c38d4facf3022a406b6",
    3: "06b3c247db5900d4c02a64e28188d7d6b3758019d06eb37db1dc3635d9f82253",
    4: "ce7affeab9461c0ec366c123bc6f88d2d9286ede43869594e031b3910609c78f",
    5: "660fbf73a93cfbd9cbdf3091827c5ea1986fbae4f833c52795b218224cecfeaf",
    6: "71f7e5be4aaaf14bacf7940c776eca5e28142fc9e8df968aa92ab45179d59764",
    7: "c8d4249f09c832089474606b09a0d3a3900265634951afea1bd0b593ea2bf852",
    8: "8da506a8d480473fbbcce6d6e0534246de40a3fa9261d3b740164a32499df10a",
    10: "bf6ac9536562ee51503bd6a8a27e232cfad3a30be7e3e60d9105dc0844e40fca",
    11: "b43b195c198551a1cde3dbbccb0fac131d44cd215bfce3452e5235cbbd4250fd",
    13: "9965e77274f9e10e9d1d5b0febeaee911d9b51178b319bb55554c43d5b92989f",
    14: "278f3858c2312cb7af2d2f3221fd2fd29fb5fead522f649c4b0bd71a20727b76",
    16: "b4660c3fab15a32df0f35319b59f32b922db567051501d369241195b810e21da",
    17: "747755eaa617bf0af2706ff21d3415f4c1771dfd53859e19fcc11b04662448fb",
    18: "bd42ef56879e3fa0ccb8375aed0119dfc730de20f75cb0ec62865ba616df69ee",
    19: "90371d46ac4c40742a37f714018421594a894c299d9f10bc7004f09876ba09c9",
    20: "fc91649b81e511ed896f8c2eb6ba072b3a6cc4c19da962512241ca557e085cb6",
    21: "5508d65b0d49c3dd9d845ed453047f5db2c61fc4b38fdc32c53513b132de5e90",
    22: "d6e541d50376f3c9720151125db68c8ba743fff74773b06318674fa748494bd4",
    24: "e59a0073db7dc4b2f7d58c7b25ba9581f20e1dcea2c4703b79927a61e4504ef9",
    25: "73480c315d42bc5b33c2c73b9078d0034113d26f0511facd9fc5bb07f2d6438a",
    27: "76122e2fafcd4c8cc272154c97d8d4c0f363e82e98bb493f116110f74c2ee3fc",
}
IMBLEARN_BENCHMARK_FILES = {
    IMBLEARN_BENCHMARK_NAMES[i - 1]: RemoteFileMetadata(
        filename=f"x{i}data.npz", urls=(f"{_MIRROR}x{i}data.npz",), checksum=checksum
    )
    for i, checksum in _CHECKSUMS.items()
}

DESCR = """\
imbalanced-learn benchmark set {name!r} (ID {id} of 27)
---------------------------------------------------------
One of the binary benchmark sets of imbalanced-learn's ``fetch_datasets``
(Zenodo record 61452). The original labels -1 / 1 are mapped to 0 / 1; 1 is
the minority class. {n} samples, {d} features, {n_min} minority samples
(imbalance ratio {ratio:.1f}:1).

Cite: Z. Ding, "Diversified Ensemble Classifiers for Highly Imbalanced Data
Learning and their Application in Bioinformatics", PhD thesis, Georgia State
University, 2011. The underlying data come from UCI, LIBSVM and KDD Cup.
"""


def fetch_imblearn_benchmark(
    name, *, data_home=None, download_if_missing=True, return_X_y=False
):
    """Load one binary set of imbalanced-learn's benchmark (Ding, 2011).

    The same data as :func:`imblearn.datasets.fetch_datasets`, one set at a
    time, as ``<data_home>/imblearn_benchmark/zenodo/x{ID}data.npz`` (the
    layout of imbalanced-learn's archive, so either loader can read a copy
    staged for the other). Files are downloaded one by one from a pinned copy
    and checked against their sha256. Labels are 0 / 1 with the minority as 1.

    Parameters
    ----------
    name : str
        One of the 27 names, in imbalanced-learn's order: ecoli,
        optical_digits, satimage, pen_digits, abalone, sick_euthyroid,
        spectrometer, car_eval_34, isolet, us_crime, yeast_ml8, scene,
        libras_move, thyroid_sick, coil_2000, arrhythmia, solar_flare_m0, oil,
        car_eval_4, wine_quality, letter_img, yeast_me2, webpage, ozone_level,
        mammography, protein_homo, abalone_19. Five (``isolet``, ``scene``, ``coil_2000``,
        ``webpage``, ``protein_homo``) have no pinned copy: they load only
        from a file already on disk.
    data_home : str or path-like, default=None
        Folder holding the data sets, see :func:`get_data_home`.
    download_if_missing : bool, default=True
        If False, raise an OSError when the file is not on disk instead of
        downloading it.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` float64 array (n_samples, n_features); ``target`` int64 0/1
        (1: minority); ``target_names`` (``['majority', 'minority']``);
        ``name``; ``DESCR``.
    (data, target) : tuple if ``return_X_y`` is True

    References
    ----------
    .. [1] Z. Ding, "Diversified Ensemble Classifiers for Highly Imbalanced
       Data Learning and their Application in Bioinformatics", PhD thesis,
       Georgia State University, 2011.

    Examples
    --------
    >>> from skart.datasets import fetch_imblearn_benchmark
    >>> X, y = fetch_imblearn_benchmark("ecoli", return_X_y=True)  # doctest: +SKIP
    >>> X.shape, int(y.sum())  # doctest: +SKIP
    ((336, 7), 35)
    """
    if name not in IMBLEARN_BENCHMARK_NAMES:
        raise ValueError(
            f"Unknown imbalanced-learn benchmark set {name!r}; choose one of "
            f"{', '.join(IMBLEARN_BENCHMARK_NAMES)}."
        )
    set_id = IMBLEARN_BENCHMARK_NAMES.index(name) + 1
    remote = IMBLEARN_BENCHMARK_FILES.get(name)
    if remote is not None:
        (path,) = _fetch_files(
            "imblearn_benchmark/zenodo", [remote], data_home, download_if_missing
        )
    else:
        folder = Path(get_data_home(data_home)) / "imblearn_benchmark"
        path = folder / "zenodo" / f"x{set_id}data.npz"
        if not path.exists():
            raise OSError(
                f"Data file not found: {path}. skart has no pinned copy of "
                f"{name!r}; imbalanced-learn downloads it in the same layout: "
                f"imblearn.datasets.fetch_datasets(data_home={str(folder)!r}, "
                f"filter_data=({name!r},))."
            )
    with np.load(path, allow_pickle=False) as npz:
        X, label = npz["data"].astype(np.float64, copy=False), npz["label"]
    if X.ndim != 2 or len(X) != len(label) or not np.isin(label, (-1, 1)).all():
        raise ValueError(
            f"{path} does not hold a benchmark set (2-d data, labels -1/1); "
            "the file is corrupted: delete it and fetch again."
        )
    y = (label == 1).astype(np.int64)
    if return_X_y:
        return X, y
    n_min = int(y.sum())
    return Bunch(
        data=X,
        target=y,
        target_names=np.asarray(["majority", "minority"]),
        name=name,
        DESCR=DESCR.format(
            name=name,
            id=set_id,
            n=len(y),
            d=X.shape[1],
            n_min=n_min,
            ratio=(len(y) - n_min) / max(n_min, 1),
        ),
    )
