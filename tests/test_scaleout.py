"""Searches on a Dask cluster through joblib give the results of a local run."""

import numpy as np
import pytest
from joblib import parallel_config
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV

from skart import ARTClassifier

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def local_search():
    X, y = make_classification(
        n_samples=300, n_features=6, weights=[0.8], random_state=0
    )
    grid = {"c": [0.3, 0.8], "bf": [1, 2]}

    def search():
        est = ARTClassifier(max_epochs=4, lr=1e-2, random_state=0)
        return GridSearchCV(est, grid, cv=2, scoring="f1_macro", n_jobs=-1).fit(X, y)

    return X, search, search()


def check_equal(remote, local, X):
    np.testing.assert_array_equal(
        remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"]
    )
    for split in range(2):
        key = f"split{split}_test_score"
        np.testing.assert_array_equal(remote.cv_results_[key], local.cv_results_[key])
    assert remote.best_params_ == local.best_params_
    np.testing.assert_array_equal(
        remote.best_estimator_.predict_proba(X), local.best_estimator_.predict_proba(X)
    )


def test_grid_search_on_a_dask_cluster_equals_the_local_one(local_search):
    X, search, local = local_search
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        with parallel_config(backend="dask"), distributed.get_task_stream(client) as ts:
            remote = search()
        # The 8 fits (4 candidates x 2 folds) ran as tasks on the two workers.
        assert len(ts.data) >= 8
        assert {task["worker"] for task in ts.data} == set(
            client.scheduler_info()["workers"]
        )
    check_equal(remote, local, X)


def test_grid_search_on_threaded_dask_workers_equals_the_local_one(local_search):
    # Dask's default: workers run tasks in threads, which share torch's global
    # generator. Each fit draws from its own (issue 20), so concurrent fits
    # in two threads give the local run's results bit for bit.
    X, search, local = local_search
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        with parallel_config(backend="dask"), distributed.get_task_stream(client) as ts:
            remote = search()
    # The fits (joblib batches them into tasks) ran in the worker's two
    # threads, some of them at once.
    computes = sorted(
        (s["start"], s["stop"])
        for task in ts.data
        for s in task["startstops"]
        if s["action"] == "compute"
    )
    assert len(computes) >= 2
    ends = np.maximum.accumulate([stop for _, stop in computes])
    assert any(start < end for (start, _), end in zip(computes[1:], ends))
    check_equal(remote, local, X)
