"""The paper's protocol: data sets, 70/15/15 splits, one evaluation, tuning.

Section 4.1 / Appendix B of the ART paper: stratified 70/15/15
train/validation/test splits, z-scored tabular features (fit on train), the
validation split for early stopping, ART's scores and tuning (validation
macro-F1), and the test split for the reported metrics.
"""

import functools
import os
import time
import warnings
from pathlib import Path

import numpy as np
import sklearn
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score
from sklearn.model_selection import train_test_split

from skart.datasets._imblearn_benchmark import IMBLEARN_BENCHMARK_FILES

from .methods import METHODS, Context

SEEDS = [
    1834,
    8993,
    412,
    4523,
    182,
    41921,
    53178,
    4536,
    89,
    101172,
    3812,
    76459,
    21734,
    5601,
    14923,
    32871,
    982,
    61435,
    23490,
    7711,
]
TABULAR = ["Pima", "Yeast", "Wine"]
PAPER = TABULAR + ["MNIST-LT", "IMDb"]
# The 22 binary imbalanced-learn benchmark sets staged offline (not in the paper).
IMBLEARN = sorted(IMBLEARN_BENCHMARK_FILES)
IMBLEARN_MAX_ROWS = 5000  # larger sets are subsampled (stratified, fixed seed)
DATASETS = PAPER + IMBLEARN
KIND = {
    "Pima": "tabular",
    "Yeast": "tabular",
    "Wine": "tabular",
    "MNIST-LT": "image",
    "IMDb": "text",
    **dict.fromkeys(IMBLEARN, "tabular"),
}
BINARY = {"Pima", "IMDb", *IMBLEARN}
METRICS = ["macro_f1", "accuracy", "macro_precision", "macro_recall"]
IMDB_CACHE = "embeddings_all-MiniLM-L6-v2.npz"


def default_data_home():
    """``$SKART_DATA``, else ``shared/data`` beside the repository."""
    env = os.environ.get("SKART_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "shared" / "data"


def imdb_cached(data_home):
    """Whether IMDb-Custom's sentence embeddings are cached (no 40 min encode)."""
    from skart.datasets import get_data_home

    return any(
        (Path(h) / "imdb" / IMDB_CACHE).is_file() for h in (data_home, get_data_home())
    )


@functools.lru_cache(maxsize=8)
def load(name, data_home):
    """``(X, y)`` of a data set: float32 2-d features, integer labels 0..K-1."""
    from skart import datasets as ds

    kw = {"data_home": data_home, "return_X_y": True, "download_if_missing": False}
    if name == "Pima":
        X, y = ds.fetch_pima(**kw)
    elif name == "Yeast":
        X, y = ds.fetch_yeast(**kw)
    elif name == "Wine":
        X, y = ds.fetch_wine_quality(**kw)
    elif name == "MNIST-LT":
        X, y = ds.fetch_mnist_lt(flatten=True, **kw)  # (3723, 784), IR 100
    elif name == "IMDb":
        X, y = ds.fetch_imdb_embeddings(**kw)  # (28571, 384), IR 7
    elif name in IMBLEARN:
        X, y = ds.fetch_imblearn_benchmark(name, **kw)
        if len(y) > IMBLEARN_MAX_ROWS:  # the same subsample for every seed
            X, _, y, _ = train_test_split(
                X, y, train_size=IMBLEARN_MAX_ROWS, stratify=y, random_state=0
            )
    else:
        raise ValueError(f"Unknown data set {name!r}; choose from {DATASETS}.")
    y = np.unique(np.asarray(y), return_inverse=True)[1]
    return np.asarray(X, dtype=np.float32), y


def split(X, y, seed, kind="tabular"):
    """Stratified 70/15/15 split; tabular features z-scored with train statistics."""
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=0.15, stratify=y, random_state=seed
    )
    X_tr, X_va, y_tr, y_va = train_test_split(
        X_tr, y_tr, test_size=0.15 / 0.85, stratify=y_tr, random_state=seed
    )
    if kind == "tabular":
        mean, std = X_tr.mean(0), X_tr.std(0)
        std[std == 0] = 1.0
        X_tr, X_va, X_te = ((Z - mean) / std for Z in (X_tr, X_va, X_te))
    return X_tr, y_tr, X_va, y_va, X_te, y_te


def scores(y_true, y_pred):
    """The four reported metrics (macro averages over the classes present)."""
    kw = {"average": "macro", "zero_division": 0}
    return {
        "macro_f1": f1_score(y_true, y_pred, **kw),
        "accuracy": accuracy_score(y_true, y_pred),
        "macro_precision": precision_score(y_true, y_pred, **kw),
        "macro_recall": recall_score(y_true, y_pred, **kw),
    }


def context(kind, y_tr, seed, max_epochs):
    return Context(
        kind=kind,
        min_class_count=int(np.bincount(y_tr).min()),
        n_classes=int(y_tr.max() + 1),
        seed=seed,
        max_epochs=max_epochs,
    )


def fit_one(method, params, data, ctx):
    """Fit one configuration; return (estimator, validation macro-F1)."""
    X_tr, y_tr, X_va, y_va, _, _ = data
    val = {"X_val": X_va, "y_val": y_va}
    with (
        warnings.catch_warnings(),
        sklearn.config_context(enable_metadata_routing=method.routed),
    ):
        warnings.simplefilter("ignore")  # skorch/imblearn chatter in workers
        est = method.build(params, ctx)
        if hasattr(est, "steps"):  # imblearn Pipeline: route to the classifier step
            val = {f"clf__{k}": v for k, v in val.items()}
        est.fit(X_tr, y_tr, **val)
    y_pred = est.predict(X_va)
    return est, f1_score(y_va, y_pred, average="macro", zero_division=0)


def evaluate(dataset, method_name, seed, data_home, *, params=None, max_epochs=100):
    """One result row: fit on train (+ validation), score on test.

    ``params=None`` uses the method's defaults; a method with a ``grid``
    (NearMiss's version) then fits each grid point and keeps the best on
    validation macro-F1.
    """
    import torch

    torch.set_num_threads(1)
    method = METHODS[method_name]
    kind = KIND[dataset]
    X, y = load(dataset, str(data_home))
    data = split(X, y, seed, kind)
    ctx = context(kind, data[1], seed, max_epochs)
    start = time.perf_counter()
    if params is None:
        base = method.all_defaults(ctx)
        keys = list(method.grid)
        grid = (
            [dict(zip(keys, v)) for v in zip(*method.grid.values())] if keys else [{}]
        )
        fits = [
            (fit_one(method, {**base, **g}, data, ctx), {**base, **g}) for g in grid
        ]
        (est, val_f1), params = max(fits, key=lambda f: f[0][1])
    else:
        est, val_f1 = fit_one(method, params, data, ctx)
    seconds = time.perf_counter() - start
    row = {
        "dataset": dataset,
        "method": method_name,
        "seed": seed,
        **scores(data[5], est.predict(data[4])),
        "val_macro_f1": val_f1,
        "fit_seconds": round(seconds, 3),
        "params": repr(sorted(params.items())),
    }
    return row


def tune(dataset, method_name, seed, data_home, *, trials_per_param, max_epochs=100):
    """Optuna TPE search of a method's hyperparameters on one split.

    ``trials_per_param * min(#hyperparameters, 4)`` trials (the paper: 25 on
    tabular sets, 5 on MNIST-LT and IMDb); objective: validation macro-F1.
    Returns ``(best_params, best_value, n_trials)``.
    """
    import optuna
    import torch

    torch.set_num_threads(1)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    method = METHODS[method_name]
    kind = KIND[dataset]
    X, y = load(dataset, str(data_home))
    data = split(X, y, seed, kind)
    ctx = context(kind, data[1], seed, max_epochs)
    n_trials = trials_per_param * min(method.n_hyperparameters(), 4)

    def objective(trial):
        return fit_one(method, method.suggest(trial, ctx), data, ctx)[1]

    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed)
    )
    study.enqueue_trial(
        {k: v for k, v in method.all_defaults(ctx).items() if k not in method.grid}
    )
    study.optimize(objective, n_trials=n_trials)
    best = {**method.all_defaults(ctx), **study.best_params}
    return best, study.best_value, n_trials
