import functools

import numpy as np
import pytest
import torch
from sklearn.metrics import f1_score, fbeta_score, precision_score, recall_score

from skart._metrics import class_scores


@pytest.fixture
def preds():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 5, 500)
    y_pred = np.where(rng.random(500) < 0.6, y_true, rng.integers(0, 5, 500))
    return y_true, y_pred


@pytest.mark.parametrize(
    "metric, reference",
    [("f1", f1_score), ("recall", recall_score), ("precision", precision_score)],
)
def test_matches_sklearn(preds, metric, reference):
    y_true, y_pred = preds
    got = class_scores(torch.from_numpy(y_true), torch.from_numpy(y_pred), 5, metric)
    want = reference(y_true, y_pred, average=None, labels=range(5), zero_division=0)
    np.testing.assert_allclose(got, want)


def test_absent_class_is_nan_and_never_predicted_is_zero():
    y_true = torch.tensor([0, 0, 1, 1])
    y_pred = torch.tensor([0, 0, 0, 0])  # class 1 never predicted, class 2 absent
    scores = class_scores(y_true, y_pred, 3, "f1")
    assert scores[1] == 0.0
    assert np.isnan(scores[2])


def test_callable_metric(preds):
    y_true, y_pred = preds
    f2 = functools.partial(fbeta_score, beta=2, average=None, zero_division=0)
    got = class_scores(torch.from_numpy(y_true), torch.from_numpy(y_pred), 6, f2)
    np.testing.assert_allclose(got[:5], f2(y_true, y_pred, labels=range(5)))
    assert np.isnan(got[5])


def test_callable_metric_of_wrong_shape():
    with pytest.raises(ValueError, match="one score per class"):
        class_scores(
            torch.tensor([0, 1]), torch.tensor([0, 1]), 2, lambda a, b, labels: 0.5
        )


def test_unknown_metric():
    with pytest.raises(ValueError, match="Unknown metric 'auc'"):
        class_scores(torch.tensor([0, 1]), torch.tensor([0, 1]), 2, "auc")
