"""Small tabular benchmarks: Pima, Yeast and red Wine Quality (ART paper), Glass."""

import numpy as np

from ._base import RemoteFileMetadata, _fetch_files, _tabular_bunch

# Pima is no longer served by UCI; these are byte-identical copies of the
# original UCI file at pinned commits (see shared/data/README.md).
PIMA = RemoteFileMetadata(
    filename="pima-indians-diabetes.data",
    urls=(
        "https://raw.githubusercontent.com/kasvith/naive_bayes/"
        "42db73fd7df6414eb91778ce7b3a73e70248d99a/pima-indians-diabetes.data.csv",
        "https://raw.githubusercontent.com/nebiljabari/Pima-Indian-Diabetes-Study/"
        "644641bcb55ac6bf7750c4ab54a26b5e8e922925/pima-indians-diabetes.data",
    ),
    checksum="06f5b7c2cd7bca686fda4f92eab5f61e7ff6426a9acefa2e3dda04fc54293cf5",
)
# UCI archive first; the pinned GitHub copy holds exactly the checksummed bytes.
YEAST = RemoteFileMetadata(
    filename="yeast.data",
    urls=(
        "https://archive.ics.uci.edu/ml/machine-learning-databases/yeast/yeast.data",
        "https://raw.githubusercontent.com/bellasaid/CMSE202/"
        "06eae3895e883ed4af2670db3bb846e584e4129e/yeast.data",
    ),
    checksum="a82ecfb6ab0a378ca984a1555ebee8367320a48f4e9afbdb1fea23a5d22f3109",
)
WINE_RED = RemoteFileMetadata(
    filename="winequality-red.csv",
    urls=(
        "https://archive.ics.uci.edu/ml/machine-learning-databases/wine-quality/"
        "winequality-red.csv",
        "https://raw.githubusercontent.com/JakubRoks1/DataScienceTask/"
        "63b5e545d8f26bbabff238eb2c7a8af5adec3cf7/winequality-red.csv",
    ),
    checksum="4a402cf041b025d4566d954c3b9ba8635a3a8a01e039005d97d6a710278cf05e",
)
# UCI archive; the staged copy (shared/data/README.md) holds these bytes.
GLASS = RemoteFileMetadata(
    filename="glass.data",
    urls=(
        "https://archive.ics.uci.edu/ml/machine-learning-databases/glass/glass.data",
    ),
    checksum="dd67373f4baf2807345df02cbfef2093d342e61ad0d82a4fb79af43ef8ce449d",
)

PIMA_FEATURES = ["preg", "plas", "pres", "skin", "insu", "mass", "pedi", "age"]
YEAST_FEATURES = ["mcg", "gvh", "alm", "mit", "erl", "pox", "vac", "nuc"]
GLASS_FEATURES = ["RI", "Na", "Mg", "Al", "Si", "K", "Ca", "Ba", "Fe"]

PIMA_DESCR = """\
Pima Indians Diabetes (UCI, 1990)
---------------------------------
768 women of Pima Indian heritage, aged 21 or more; 8 numeric features:
preg (number of pregnancies), plas (plasma glucose, 2 h oral glucose
tolerance test), pres (diastolic blood pressure, mm Hg), skin (triceps skin
fold, mm), insu (2-hour serum insulin, mu U/ml), mass (body mass index),
pedi (diabetes pedigree function), age (years).
Target: 1 if diabetes was diagnosed within five years, else 0 (500 / 268).

Missing values are coded as 0 and kept as such (plas 5, pres 35, skin 227,
insu 374, mass 11 zeros); impute them if the model needs it.

Source: National Institute of Diabetes and Digestive and Kidney Diseases,
donated by V. Sigillito. Cite: J. W. Smith, J. E. Everhart, W. C. Dickson,
W. C. Knowler, R. S. Johannes, "Using the ADAP learning algorithm to forecast
the onset of diabetes mellitus", Proc. Symposium on Computer Applications in
Medical Care, 261-265, 1988.
"""

YEAST_DESCR = """\
Yeast (UCI)
-----------
1484 proteins, 8 numeric features (mcg, gvh, alm, mit, erl, pox, vac, nuc:
scores of signal sequences and amino acid content), 10 cellular localisation
sites as classes: CYT 463, NUC 429, MIT 244, ME3 163, ME2 51, ME1 44, EXC 35,
VAC 30, POX 20, ERL 5 (imbalance ratio 92.6). The SWISS-PROT name column is
dropped. The file has 22 exact duplicate rows, kept as in the original.

Cite: P. Horton, K. Nakai, "A Probabilistic Classification System for
Predicting the Cellular Localization Sites of Proteins", ISMB 1996, 109-115.
UCI Machine Learning Repository (CC BY 4.0).
"""

WINE_DESCR = """\
Wine Quality, red (UCI)
-----------------------
1599 red "vinho verde" wines, 11 physicochemical features, target: the
median sensory quality score, an integer; the 6 scores present are
3: 10, 4: 53, 5: 681, 6: 638, 7: 199, 8: 18. No missing values; 240
duplicate rows, kept as in the original.

Cite: P. Cortez, A. Cerdeira, F. Almeida, T. Matos, J. Reis, "Modeling wine
preferences by data mining from physicochemical properties", Decision Support
Systems 47(4):547-553, 2009. UCI Machine Learning Repository (CC BY 4.0).
"""

GLASS_DESCR = """\
Glass Identification (UCI)
--------------------------
214 glass fragments, 9 numeric features: RI (refractive index) and the
weight percent of oxides of Na, Mg, Al, Si, K, Ca, Ba and Fe. Target: the
glass type, 6 of the 7 types present: 1 (building windows, float processed)
70, 2 (building windows, non-float) 76, 3 (vehicle windows, float) 17,
5 (containers) 13, 6 (tableware) 9, 7 (headlamps) 29; there is no type 4.
The row id column is dropped.

Source: B. German, Central Research Establishment, Home Office Forensic
Science Service. Cite: I. W. Evett, E. J. Spiehler, "Rule Induction in
Forensic Science", Central Research Establishment, Home Office Forensic
Science Service, 1987. UCI Machine Learning Repository (CC BY 4.0).
"""


def _parse_pima(path):
    table = np.loadtxt(path, delimiter=",", ndmin=2)
    return table[:, :8], table[:, 8].astype(np.int64), PIMA_FEATURES


def _parse_yeast(path):
    # Fields are separated by runs of spaces, and one line has a TAB: split on
    # any whitespace (loadtxt's default) rather than on a fixed delimiter.
    table = np.loadtxt(path, dtype=str, ndmin=2)
    return table[:, 1:9].astype(np.float64), table[:, 9].astype(object), YEAST_FEATURES


def _parse_wine(path):
    with open(path, encoding="utf-8") as f:
        header = f.readline()
    names = [name.strip().strip('"') for name in header.split(";")]
    table = np.loadtxt(path, delimiter=";", skiprows=1, ndmin=2)
    return table[:, :-1], table[:, -1].astype(np.int64), names[:-1]


def _parse_glass(path):
    table = np.loadtxt(path, delimiter=",", ndmin=2)
    return table[:, 1:10], table[:, 10].astype(np.int64), GLASS_FEATURES


def _fetch_tabular(
    name,
    remote,
    parse,
    shape,
    target_name,
    target_names,
    descr,
    *,
    data_home,
    download_if_missing,
    return_X_y,
    as_frame,
):
    """Fetch one tabular file, parse it and check its shape."""
    (path,) = _fetch_files(name, [remote], data_home, download_if_missing)
    X, y, feature_names = parse(path)
    if X.shape != shape:
        raise ValueError(
            f"{path} holds {X.shape[0]} rows x {X.shape[1]} features instead of "
            f"{shape[0]} x {shape[1]}; the file is corrupted: delete it and "
            "fetch again."
        )
    if target_names is None:
        target_names = np.unique(y)
    return _tabular_bunch(
        X,
        y,
        feature_names=feature_names,
        target_name=target_name,
        target_names=target_names,
        descr=descr,
        as_frame=as_frame,
        return_X_y=return_X_y,
    )


_PARAMS_DOC = """Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding the data sets, see :func:`get_data_home`. The file is
        looked for in ``<data_home>/{folder}/{filename}``.
    download_if_missing : bool, default=True
        If False, raise an OSError when the file is not on disk instead of
        downloading it.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=False
        If True, data is a pandas DataFrame, target a Series, and the Bunch
        also has ``frame`` with both (requires pandas).
"""


def fetch_pima(
    data_home=None, *, download_if_missing=True, return_X_y=False, as_frame=False
):
    """Load the Pima Indians Diabetes data set (binary, 500 / 268).

    =================   ==============
    Samples             768
    Features            8, real
    Classes             2 (0: 500, 1: 268)
    =================   ==============

    Zeros in ``plas``, ``pres``, ``skin``, ``insu`` and ``mass`` code missing
    values; they are returned unchanged.

    {params}
    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (768, 8) float64 array or DataFrame; ``target`` int 0/1
        (1: diabetes); ``feature_names``; ``target_names``
        (``['negative', 'positive']``, indexed by the target); ``frame``
        (DataFrame or None); ``DESCR``.
    (data, target) : tuple if ``return_X_y`` is True

    References
    ----------
    .. [1] J. W. Smith et al., "Using the ADAP learning algorithm to forecast
       the onset of diabetes mellitus", Proc. Symp. Computer Applications in
       Medical Care, 261-265, 1988.

    Examples
    --------
    >>> from skart.datasets import fetch_pima
    >>> X, y = fetch_pima(return_X_y=True)  # doctest: +SKIP
    >>> X.shape, y.sum()  # doctest: +SKIP
    ((768, 8), np.int64(268))
    """
    return _fetch_tabular(
        "pima",
        PIMA,
        _parse_pima,
        (768, 8),
        "class",
        ["negative", "positive"],
        PIMA_DESCR,
        data_home=data_home,
        download_if_missing=download_if_missing,
        return_X_y=return_X_y,
        as_frame=as_frame,
    )


def fetch_yeast(
    data_home=None, *, download_if_missing=True, return_X_y=False, as_frame=False
):
    """Load the UCI Yeast data set (10 classes, from 463 down to 5 samples).

    =================   ==============
    Samples             1484
    Features            8, real
    Classes             10: CYT 463, NUC 429, MIT 244, ME3 163, ME2 51,
                        ME1 44, EXC 35, VAC 30, POX 20, ERL 5
    =================   ==============

    The protein name column of the file is dropped.

    {params}
    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (1484, 8) float64 array or DataFrame; ``target`` the class
        names as strings (object array); ``feature_names``; ``target_names``
        (the sorted class names); ``frame`` (DataFrame or None); ``DESCR``.
    (data, target) : tuple if ``return_X_y`` is True

    References
    ----------
    .. [1] P. Horton, K. Nakai, "A Probabilistic Classification System for
       Predicting the Cellular Localization Sites of Proteins", ISMB 1996.

    Examples
    --------
    >>> from skart.datasets import fetch_yeast
    >>> yeast = fetch_yeast()  # doctest: +SKIP
    >>> yeast.target[:3]  # doctest: +SKIP
    array(['MIT', 'MIT', 'MIT'], dtype=object)
    """
    return _fetch_tabular(
        "yeast",
        YEAST,
        _parse_yeast,
        (1484, 8),
        "class",
        None,
        YEAST_DESCR,
        data_home=data_home,
        download_if_missing=download_if_missing,
        return_X_y=return_X_y,
        as_frame=as_frame,
    )


def fetch_wine_quality(
    data_home=None, *, download_if_missing=True, return_X_y=False, as_frame=False
):
    """Load the red Wine Quality data set (6 ordinal classes, 3 to 8).

    =================   ==============
    Samples             1599
    Features            11, real
    Classes             6 (quality 3: 10, 4: 53, 5: 681, 6: 638, 7: 199,
                        8: 18)
    =================   ==============

    {params}
    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (1599, 11) float64 array or DataFrame; ``target`` the
        integer quality 3..8; ``feature_names`` (as in the file header, e.g.
        ``'fixed acidity'``); ``target_names`` (the sorted qualities);
        ``frame`` (DataFrame or None); ``DESCR``.
    (data, target) : tuple if ``return_X_y`` is True

    References
    ----------
    .. [1] P. Cortez, A. Cerdeira, F. Almeida, T. Matos, J. Reis, "Modeling
       wine preferences by data mining from physicochemical properties",
       Decision Support Systems 47(4):547-553, 2009.

    Examples
    --------
    >>> from skart.datasets import fetch_wine_quality
    >>> wine = fetch_wine_quality(as_frame=True)  # doctest: +SKIP
    >>> wine.frame["quality"].value_counts().sort_index().tolist()  # doctest: +SKIP
    [10, 53, 681, 638, 199, 18]
    """
    return _fetch_tabular(
        "wine_quality",
        WINE_RED,
        _parse_wine,
        (1599, 11),
        "quality",
        None,
        WINE_DESCR,
        data_home=data_home,
        download_if_missing=download_if_missing,
        return_X_y=return_X_y,
        as_frame=as_frame,
    )


def fetch_glass(
    data_home=None, *, download_if_missing=True, return_X_y=False, as_frame=False
):
    """Load the UCI Glass Identification data set (6 classes, 76 down to 9).

    =================   ==============
    Samples             214
    Features            9, real
    Classes             6 (type 1: 70, 2: 76, 3: 17, 5: 13, 6: 9, 7: 29)
    =================   ==============

    The row id column of the file is dropped.

    {params}
    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (214, 9) float64 array or DataFrame; ``target`` the integer
        glass type; ``feature_names``; ``target_names`` (the sorted types);
        ``frame`` (DataFrame or None); ``DESCR``.
    (data, target) : tuple if ``return_X_y`` is True

    References
    ----------
    .. [1] I. W. Evett, E. J. Spiehler, "Rule Induction in Forensic Science",
       Central Research Establishment, Home Office Forensic Science Service,
       1987.

    Examples
    --------
    >>> from skart.datasets import fetch_glass
    >>> X, y = fetch_glass(return_X_y=True)  # doctest: +SKIP
    >>> X.shape  # doctest: +SKIP
    (214, 9)
    """
    return _fetch_tabular(
        "glass",
        GLASS,
        _parse_glass,
        (214, 9),
        "type",
        None,
        GLASS_DESCR,
        data_home=data_home,
        download_if_missing=download_if_missing,
        return_X_y=return_X_y,
        as_frame=as_frame,
    )


for _func, _folder, _remote in [
    (fetch_pima, "pima", PIMA),
    (fetch_yeast, "yeast", YEAST),
    (fetch_wine_quality, "wine_quality", WINE_RED),
    (fetch_glass, "glass", GLASS),
]:
    if _func.__doc__:  # None under python -OO
        _func.__doc__ = _func.__doc__.format(
            params=_PARAMS_DOC.format(folder=_folder, filename=_remote.filename)
        )
