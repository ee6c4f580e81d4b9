"""The AutoSMOTE sampler (skart.over_sampling): fit_resample, the reduction to
SMOTE, pipelines and errors. The classifier behind it is tested in
test_autosmote.py."""

from collections import Counter

import numpy as np
import pytest
from autosmote_helpers import three_class_data, tiny
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import Pipeline
from scipy.stats import kstest
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler

from skart import ARTClassifier
from skart.over_sampling import AutoSMOTE


@pytest.fixture(scope="module")
def data():
    return three_class_data()


def test_participation_one_k_one_linear_reproduces_smote():
    X, y = make_classification(
        n_samples=300, n_features=3, n_informative=3, n_redundant=0,
        weights=[0.8], random_state=1,
    )  # fmt: skip
    estimator = tiny(k_max=1, aggregations=("linear",), min_participation=1.0)
    sampler = AutoSMOTE(estimator=estimator, random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    _, y_smote = SMOTE(k_neighbors=1, random_state=0).fit_resample(X, y)
    assert Counter(y_res) == Counter(y_smote)

    Z = X_res[len(X) :]
    seeds = sampler.seed_indices_
    nn1 = sampler.neighbors_[seeds, 0]
    assert (y[seeds] == 1).all() and (y[nn1] == 1).all()
    # Every synthetic point lies on the segment from its seed to its 1-NN.
    d = X[nn1] - X[seeds]
    lam = ((Z - X[seeds]) * d).sum(1) / (d * d).sum(1)
    assert np.allclose(X[seeds] + lam[:, None] * d, Z, atol=1e-5)
    assert ((lam >= -1e-6) & (lam <= 1 + 1e-6)).all()
    # ... at a uniform step, and every seed of the class takes part.
    assert kstest(lam, "uniform").pvalue > 0.01
    assert np.allclose(sampler.decision_distributions_["k"][y == 1], 1.0)
    assert set(sampler.synthetic_decisions_["aggregation"]) == {"linear"}


def test_fit_resample_keeps_originals_first_and_counts(data):
    X, y = data
    labels = np.array(["a", "b", "c"])[y]
    strategy = {"b": 100, "c": 90}
    sampler = AutoSMOTE(sampling_strategy=strategy, estimator=tiny(), random_state=3)
    X_res, y_res = sampler.fit_resample(X, labels)
    assert np.array_equal(X_res[: len(X)], X)
    assert np.array_equal(y_res[: len(X)], labels)
    counts = Counter(y_res)
    assert counts["b"] == 100 and counts["c"] == 90
    assert counts["a"] == Counter(labels)["a"]
    # Synthetic rows come class by class, each made from a seed of its class.
    assert (labels[sampler.seed_indices_] == y_res[len(X) :]).all()
    assert len(sampler.synthetic_decisions_["k"]) == len(X_res) - len(X)

    again = AutoSMOTE(sampling_strategy=strategy, estimator=tiny(), random_state=3)
    X_again, y_again = again.fit_resample(X, labels)
    assert np.array_equal(X_again, X_res) and np.array_equal(y_again, y_res)
    other = AutoSMOTE(sampling_strategy=strategy, estimator=tiny(), random_state=4)
    assert not np.array_equal(other.fit_resample(X, labels)[0], X_res)


def test_sampler_in_an_imblearn_pipeline(data):
    X, y = data
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("autosmote", AutoSMOTE(estimator=tiny(), random_state=0)),
            ("art", ARTClassifier(max_epochs=3, random_state=0)),
        ]
    ).fit(X, y)
    assert pipe.predict(X).shape == (len(X),)


def test_one_row_class_is_copied_with_a_warning():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(41, 2))
    y = np.array([0] * 20 + [1] * 20 + [2])
    sampler = AutoSMOTE(estimator=tiny(k_max=2), random_state=0)
    with pytest.warns(UserWarning, match="has 1 row in the training fold"):
        X_res, y_res = sampler.fit_resample(X, y)
    copies = X_res[len(X) :][y_res[len(X) :] == 2]
    assert len(copies) == 19 and np.allclose(copies, X[40])
    assert (sampler.synthetic_decisions_["aggregation"][-19:] == "copy").all()


def test_sampler_refuses_non_numeric_features():
    X = np.array([["a", 1.0], ["b", 2.0], ["c", 3.0], ["a", 4.0]] * 5, dtype=object)
    y = np.array([0, 0, 0, 1] * 5)
    with pytest.raises(ValueError, match="every feature must be numeric"):
        AutoSMOTE(estimator=tiny()).fit_resample(X, y)


def test_sampler_estimator_must_be_autosmote(data):
    X, y = data
    with pytest.raises(ValueError, match="must be an AutoSMOTEClassifier"):
        AutoSMOTE(estimator=ARTClassifier()).fit_resample(X, y)


def test_fit_and_resample_on_device(data, device):
    X, y = data
    sampler = AutoSMOTE(estimator=tiny(device=device), random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    assert np.array_equal(X_res[: len(X)], X)
    assert sampler.estimator_.predict(X).shape == (len(X),)
