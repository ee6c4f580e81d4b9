"""``to_onnx``: the exported graph gives ``predict_proba``'s probabilities."""

import sys

import numpy as np
import pytest
from sklearn.datasets import make_classification

# One export of a small network per estimator, a few seconds each.
TOL = 1e-5


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=300,
        n_features=6,
        n_informative=4,
        n_classes=3,
        weights=[0.7, 0.2, 0.1],
        random_state=0,
    )
    X_test = np.random.RandomState(1).normal(size=(101, 6))
    return X, y, X_test


def test_onnx_probabilities_equal_predict_proba(network_estimator, data, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    X, y, X_test = data
    clf = network_estimator(decision="tuned").fit(X, y)
    path = tmp_path / "model.onnx"
    clf.to_onnx(path)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (inp,) = session.get_inputs()
    assert inp.name == "X" and inp.shape[1:] == [6]
    assert session.get_outputs()[0].name == "proba"
    expected = clf.predict_proba(X_test)
    for n in (1, 7, len(X_test)):
        rows = X_test[:n].astype(np.float32)
        (proba,) = session.run(None, {"X": rows})
        assert proba.shape == (n, 3)
        np.testing.assert_allclose(proba, expected[:n], rtol=0, atol=TOL)
    # The documented decision rule, applied in Python, gives predict.
    (proba,) = session.run(None, {"X": X_test.astype(np.float32)})
    labels = clf.classes_[np.argmax(np.log(proba) + clf.decision_offsets_, axis=1)]
    agree = np.mean(labels == clf.predict(X_test))
    assert agree > 0.98  # float32 against float64: a tie may fall either way


def test_onnx_leaves_the_estimator_alone(data, tmp_path):
    pytest.importorskip("onnxscript")
    from skart import ARTClassifier

    X, y, X_test = data
    clf = ARTClassifier(max_epochs=2, random_state=0).fit(X, y)
    before = clf.predict_proba(X_test)
    module = clf.net_.module_
    clf.to_onnx(tmp_path / "a.onnx")
    assert clf.net_.module_ is module
    np.testing.assert_array_equal(clf.predict_proba(X_test), before)
    # Atomic: the target only, no temporary file left beside it.
    assert [p.name for p in tmp_path.iterdir()] == ["a.onnx"]


def test_onnx_images_need_input_shape(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from skart import ARTClassifier

    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 2, 3, 4)).astype(np.float32)
    y = (X[:, 0, 0, 0] > 0.5).astype(int)
    clf = ARTClassifier(max_epochs=2, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match=r"more than two dimensions.*input_shape"):
        clf.to_onnx(tmp_path / "m.onnx")
    clf.to_onnx(tmp_path / "m.onnx", input_shape=(2, 3, 4))
    session = ort.InferenceSession(str(tmp_path / "m.onnx"))
    (proba,) = session.run(None, {"X": X[:5]})
    np.testing.assert_allclose(proba, clf.predict_proba(X[:5]), rtol=0, atol=TOL)


@pytest.mark.parametrize("missing", ["onnx", "onnxscript"])
def test_onnx_without_the_optional_packages(missing, monkeypatch, data, tmp_path):
    from skart import ARTClassifier

    X, y, _ = data
    clf = ARTClassifier(max_epochs=1, random_state=0).fit(X, y)
    monkeypatch.setitem(sys.modules, missing, None)  # import raises ImportError
    with pytest.raises(
        ImportError,
        match=rf"to_onnx needs the optional packages.*not installed: [^)]*\b{missing}\b.*"
        r"pip install 'skart\[onnx\]'",
    ):
        clf.to_onnx(tmp_path / "m.onnx")
    assert not list(tmp_path.iterdir())


def test_onnx_unfitted():
    from sklearn.exceptions import NotFittedError

    from skart import ARTClassifier

    with pytest.raises(NotFittedError):
        ARTClassifier().to_onnx("never.onnx")
