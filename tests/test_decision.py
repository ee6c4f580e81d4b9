"""The decision rule fitted on the validation fold (skart._decision)."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.metrics import f1_score

from skart import ARTClassifier
from skart._decision import tune_offsets


def test_binary_offset_is_the_best_threshold():
    rng = np.random.default_rng(0)
    y = (rng.random(200) < 0.15).astype(int)
    p1 = np.clip(0.25 * y + rng.random(200) * 0.6, 1e-6, 1 - 1e-6)
    log_proba = np.log(np.column_stack([1 - p1, p1]))
    offsets = tune_offsets(log_proba, y)
    threshold = 1 / (1 + np.exp(offsets[1]))
    tuned = f1_score(y, (p1 >= threshold).astype(int), average="macro")
    # Brute force over every threshold the data can tell apart.
    best = max(
        f1_score(y, (p1 >= t).astype(int), average="macro")
        for t in np.concatenate([p1, [0.5]])
    )
    assert tuned == pytest.approx(best)
    assert tuned > f1_score(y, (p1 >= 0.5).astype(int), average="macro")


def test_ties_keep_the_argmax_rule():
    # Perfectly separated: every threshold between the classes scores 1.
    log_proba = np.log(np.array([[0.9, 0.1]] * 10 + [[0.2, 0.8]] * 10))
    np.testing.assert_array_equal(tune_offsets(log_proba, [0] * 10 + [1] * 10), 0.0)


def test_small_classes_keep_offset_zero():
    rng = np.random.default_rng(1)
    y = np.array([0] * 60 + [1] * 30 + [2] * 3)
    log_proba = np.log(rng.dirichlet(np.ones(3), size=len(y)))
    offsets = tune_offsets(log_proba, y, min_support=5)
    assert offsets[0] == 0.0 and offsets[2] == 0.0


def test_multiclass_offsets_never_lose_on_the_validation_rows():
    rng = np.random.default_rng(2)
    y = rng.choice(4, size=300, p=[0.6, 0.25, 0.1, 0.05])
    logits = rng.normal(size=(300, 4)) + 1.5 * np.eye(4)[y]
    logits[:, 0] += 1.0  # a bias towards the majority class
    offsets = tune_offsets(logits, y)
    before = f1_score(y, logits.argmax(1), average="macro")
    after = f1_score(y, (logits + offsets).argmax(1), average="macro")
    assert after >= before and after > before + 0.02
    assert offsets[0] == 0.0


def test_estimator_applies_the_threshold():
    X, y = make_classification(
        n_samples=800, weights=[0.9], flip_y=0.03, random_state=0
    )
    y = np.where(y == 1, "fraud", "ok")
    clf = ARTClassifier(max_epochs=15, decision="tuned", random_state=0).fit(X, y)
    assert clf.classes_.tolist() == ["fraud", "ok"]
    proba = clf.predict_proba(X)
    expected = np.where(proba[:, 1] >= clf.decision_threshold_, "ok", "fraud")
    margin = np.abs(proba[:, 1] - clf.decision_threshold_) > 1e-9
    np.testing.assert_array_equal(clf.predict(X)[margin], expected[margin])
    plain = ARTClassifier(max_epochs=15, random_state=0).fit(X, y)
    assert plain.decision_threshold_ == 0.5
    np.testing.assert_array_equal(plain.decision_offsets_, 0.0)
    np.testing.assert_array_equal(plain.predict_proba(X), proba)  # same network


def test_every_network_estimator_tunes_its_decision(network_estimator):
    X, y = make_classification(
        n_samples=500, weights=[0.9], flip_y=0.03, random_state=0
    )
    tuned = network_estimator(decision="tuned").fit(X, y)
    plain = network_estimator().fit(X, y)
    np.testing.assert_array_equal(plain.decision_offsets_, 0.0)
    np.testing.assert_array_equal(tuned.predict_proba(X), plain.predict_proba(X))
    expected = (tuned.predict_proba(X)[:, 1] >= tuned.decision_threshold_).astype(int)
    np.testing.assert_array_equal(tuned.predict(X), expected)
