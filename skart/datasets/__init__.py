"""Loaders of the benchmark data sets of skart's papers, and long-tail helpers.

The ``fetch_*`` functions follow scikit-learn's conventions: files are kept in
a data directory (:func:`get_data_home`, ``~/skart_data`` by default, or the
``SKART_DATA`` environment variable), one subfolder per data set, downloaded
once and checked against a sha256; they return a :class:`~sklearn.utils.Bunch`
or, with ``return_X_y=True``, ``(data, target)``.
"""

from ._base import clear_data_home, get_data_home
from ._imblearn_benchmark import fetch_imblearn_benchmark
from ._imdb import fetch_imdb, fetch_imdb_embeddings
from ._long_tail import make_long_tailed
from ._mnist import fetch_mnist, fetch_mnist_lt
from ._tabular import fetch_glass, fetch_pima, fetch_wine_quality, fetch_yeast

__all__ = [
    "clear_data_home",
    "fetch_glass",
    "fetch_imblearn_benchmark",
    "fetch_imdb",
    "fetch_imdb_embeddings",
    "fetch_mnist",
    "fetch_mnist_lt",
    "fetch_pima",
    "fetch_wine_quality",
    "fetch_yeast",
    "get_data_home",
    "make_long_tailed",
]
