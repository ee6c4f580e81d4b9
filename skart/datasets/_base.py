"""Shared helpers of the dataset loaders: data home, checked downloads, bunches."""

# The conventions follow scikit-learn's ``sklearn/datasets/_base.py``
# (``get_data_home``, ``RemoteFileMetadata``, ``_fetch_remote``), with two
# differences explained where they occur: several mirror URLs per file, and
# files already on disk are trusted rather than re-hashed.

import hashlib
import logging
import os
import shutil
import warnings
from collections import namedtuple
from pathlib import Path
from tempfile import NamedTemporaryFile
from urllib.request import urlopen

import numpy as np
from sklearn.utils import Bunch

logger = logging.getLogger(__name__)

#: One file of a data set: local ``filename``, ``urls`` (mirrors, tried in
#: order) and the expected sha256 ``checksum`` of the downloaded bytes.
RemoteFileMetadata = namedtuple("RemoteFileMetadata", ["filename", "urls", "checksum"])

_TIMEOUT = 60  # seconds without data before a mirror is given up


def get_data_home(data_home=None):
    """Return the path of the skart data directory, creating it if needed.

    Loaders keep their downloaded files (one subfolder per data set) and
    computed caches there, so that each file is downloaded only once.

    By default the data directory is ``~/skart_data``. It can be changed with
    the ``SKART_DATA`` environment variable or by passing ``data_home``. A
    leading ``~`` is expanded to the user's home folder.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The data directory. If None, ``$SKART_DATA`` if set, else
        ``~/skart_data``.

    Returns
    -------
    data_home : str
        The path of the data directory.

    See Also
    --------
    clear_data_home : Delete the data directory.
    sklearn.datasets.get_data_home : The scikit-learn counterpart.

    Examples
    --------
    >>> from skart.datasets import get_data_home
    >>> get_data_home()  # doctest: +SKIP
    '/home/user/skart_data'
    """
    if data_home is None:
        data_home = os.environ.get("SKART_DATA", os.path.join("~", "skart_data"))
    path = Path(data_home).expanduser()
    # Checked first so that an existing read-only folder is accepted as is.
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
    return str(path)


def clear_data_home(data_home=None):
    """Delete the data directory and everything in it.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The data directory, resolved as in :func:`get_data_home`.

    Examples
    --------
    >>> from skart.datasets import clear_data_home
    >>> clear_data_home()  # doctest: +SKIP
    """
    shutil.rmtree(get_data_home(data_home))


def _is_writable_dir(path):
    """Whether ``path`` is a folder this process should write into.

    ``os.access`` alone is not enough: for root it ignores permission bits, and
    shared read-only data folders are laid out without write bits rather than
    on read-only mounts. A folder without any write bit counts as read-only.
    """
    path = Path(path)
    return (
        path.is_dir() and os.access(path, os.W_OK) and bool(path.stat().st_mode & 0o222)
    )


def _sha256(path):
    """Return the hex sha256 digest of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fetch_remote(remote, dirname):
    """Download ``remote`` into ``dirname`` and check its sha256.

    Mirrors are tried in order. Each download goes to a temporary file in the
    target folder, which is renamed only once its checksum matches, so an
    interrupted or corrupted download never leaves a file under the final name.

    Parameters
    ----------
    remote : RemoteFileMetadata
        The file to download.
    dirname : str or path-like
        The folder to save it in (created if needed).

    Returns
    -------
    path : pathlib.Path
        The path of the downloaded file.

    Raises
    ------
    OSError
        If no mirror gave a file with the expected checksum; the message lists
        each mirror's error.
    """
    folder = Path(dirname)
    folder.mkdir(parents=True, exist_ok=True)
    errors = []
    for url in remote.urls:
        # A uniquely named temporary file keeps parallel downloads apart.
        with NamedTemporaryFile(
            prefix=remote.filename + ".part_", dir=folder, delete=False
        ) as tmp:
            tmp_path = Path(tmp.name)
        try:
            logger.info("Downloading %s to %s", url, folder)
            with urlopen(url, timeout=_TIMEOUT) as response, open(tmp_path, "wb") as f:
                shutil.copyfileobj(response, f, 1 << 20)
            checksum = _sha256(tmp_path)
            if remote.checksum is not None and checksum != remote.checksum:
                raise OSError(
                    f"the SHA256 checksum of the file ({checksum}) differs from "
                    f"the expected one ({remote.checksum})"
                )
        except OSError as exc:  # urllib's URLError and HTTPError are OSErrors
            tmp_path.unlink(missing_ok=True)
            errors.append(f"{url}: {exc}")
            if url != remote.urls[-1]:
                warnings.warn(
                    f"Download of {remote.filename} from {url} failed ({exc}); "
                    "trying the next mirror.",
                    stacklevel=2,
                )
            continue
        except BaseException:  # e.g. KeyboardInterrupt: clean up, re-raise
            tmp_path.unlink(missing_ok=True)
            raise
        path = folder / remote.filename
        os.replace(tmp_path, path)  # atomic: same folder, same file system
        # NamedTemporaryFile creates files readable by the owner only.
        path.chmod(0o644)
        return path
    raise OSError(
        f"Could not download {remote.filename} into {folder}:\n  " + "\n  ".join(errors)
    )


def _fetch_files(name, remotes, data_home=None, download_if_missing=True):
    """Return the local paths of ``remotes`` under ``<data_home>/<name>/``.

    Files already present are used as they are, without re-hashing them: a
    valid copy may legitimately differ at the byte level from the downloaded
    one (e.g. a re-compressed ``.gz``) and ``data_home`` may be read-only. The
    parsers check the content instead (row counts, headers).

    Parameters
    ----------
    name : str
        Subfolder of the data set.
    remotes : sequence of RemoteFileMetadata
        The files needed.
    data_home : str or path-like, default=None
        See :func:`get_data_home`.
    download_if_missing : bool, default=True
        Whether to download missing files; if False they raise an OSError.

    Returns
    -------
    paths : list of pathlib.Path
        One path per remote, in order.
    """
    folder = Path(get_data_home(data_home)) / name
    paths = []
    for remote in remotes:
        path = folder / remote.filename
        if not path.exists():
            if not download_if_missing:
                raise OSError(
                    f"Data file not found: {path}. Call again with "
                    "download_if_missing=True to download it from "
                    f"{remote.urls[0]}, or copy the file there."
                )
            # The nearest existing folder is where the new ones would be made.
            parent = next(p for p in (folder, *folder.parents) if p.is_dir())
            if not _is_writable_dir(parent):
                raise OSError(
                    f"Data file not found: {path}, and {parent} is read-only so "
                    "it cannot be downloaded there. Pass a writable data_home."
                )
            path = _fetch_remote(remote, folder)
        paths.append(path)
    return paths


def _check_subset(subset, allowed=("train", "test", "all")):
    """Raise a ValueError unless ``subset`` is one of ``allowed``."""
    if subset not in allowed:
        raise ValueError(f"subset must be one of {allowed}, got {subset!r}.")


def _tabular_bunch(
    data,
    target,
    *,
    feature_names,
    target_name,
    target_names,
    descr,
    as_frame,
    return_X_y,
):
    """Build the output of a tabular loader from NumPy arrays.

    With ``as_frame=True`` the data becomes a DataFrame, the target a Series
    named ``target_name``, and ``frame`` holds both side by side. pandas is
    imported only then, since it is not a dependency of skart.
    """
    frame = None
    if as_frame:
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - pandas is in the tests
            msg = "as_frame=True requires pandas: pip install pandas"
            raise ImportError(msg) from exc
        data = pd.DataFrame(data, columns=feature_names)
        target = pd.Series(target, name=target_name)
        frame = pd.concat([data, target], axis=1)
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        frame=frame,
        feature_names=list(feature_names),
        target_names=np.asarray(target_names),
        DESCR=descr,
    )
