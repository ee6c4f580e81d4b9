"""Searches on a Dask cluster through joblib give the results of a local run."""

import numpy as np
import pytest
from joblib import parallel_config
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV

from skart import ARTClassifier

distributed = pytest.importorskip("distributed")


def test_grid_search_on_a_dask_cluster_equals_the_local_one():
    X, y = make_classification(
        n_samples=300, n_features=6, weights=[0.8], random_state=0
    )
    grid = {"c": [0.3, 0.8], "bf": [1, 2]}

    def search():
        est = ARTClassifier(max_epochs=4, lr=1e-2, random_state=0)
        return GridSearchCV(est, grid, cv=2, scoring="f1_macro", n_jobs=-1).fit(X, y)

    local = search()
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
    np.testing.assert_array_equal(
        remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"]
    )
    assert remote.best_params_ == local.best_params_
    np.testing.assert_array_equal(
        remote.best_estimator_.predict_proba(X), local.best_estimator_.predict_proba(X)
    )
