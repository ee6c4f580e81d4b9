"""What a user gets from ``pip install skart``: run from outside the source tree.

Imports skart from the installed wheel, fits and predicts each estimator on a
tiny problem, loads the shipped MESA meta-sampler and saves and loads a fitted
ART model. Public API only (``skart``, ``skart.ensemble``,
``skart.over_sampling``), so that it holds whatever the package's insides
look like. Run by .ci/wheel_smoke.sh.
"""

import os
import sys
import tempfile
from pathlib import Path

import numpy as np
from sklearn.datasets import make_classification

import skart
import skart.ensemble
import skart.over_sampling

# The installed copy, not a checkout: the script refuses to prove anything
# about a source tree that happens to be on the path.
installed = Path(skart.__file__).resolve()
assert "site-packages" in installed.parts, installed
source = os.environ.get("SKART_SOURCE")
if source:
    assert not installed.is_relative_to(Path(source).resolve()), installed
print(f"skart {skart.__version__} from {installed.parent}")

X, y = make_classification(
    n_samples=300,
    n_features=8,
    n_informative=5,
    n_classes=3,
    weights=[0.7, 0.2, 0.1],
    random_state=0,
)
X = X.astype(np.float32)


def check(name, clf):
    clf.fit(X, y)
    pred = clf.predict(X)
    proba = clf.predict_proba(X)
    assert pred.shape == y.shape and set(pred) <= set(y), name
    assert proba.shape == (len(y), 3), name
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    print(f"{name}: fit and predict, accuracy {np.mean(pred == y):.2f}")
    return clf


art = check(
    "ARTClassifier",
    skart.ARTClassifier(max_epochs=3, module__hidden_units=(16,), random_state=0),
)
check(
    "EGAClassifier",
    skart.EGAClassifier(
        pretrain_epochs=2, max_epochs=2, module__hidden_units=(16,), random_state=0
    ),
)
check(
    "AutoSMOTEClassifier",
    skart.AutoSMOTEClassifier(
        max_epochs=3, k_max=2, module__hidden_units=(16,), random_state=0
    ),
)
check(
    "DecoupledClassifier",
    skart.DecoupledClassifier(
        max_epochs=3, crt_epochs=2, module__hidden_units=(16,), random_state=0
    ),
)
# The default meta_sampler="pretrained" loads the weights shipped in the wheel.
mesa = check(
    "MESAClassifier", skart.ensemble.MESAClassifier(n_estimators=3, random_state=0)
)
sampler = skart.ensemble.MetaSampler.pretrained()
print(f"MetaSampler.pretrained(): {type(sampler).__name__} loaded")

X_res, y_res = skart.over_sampling.AutoSMOTE(
    estimator=skart.AutoSMOTEClassifier(
        max_epochs=3, k_max=2, module__hidden_units=(16,), random_state=0
    ),
    random_state=0,
).fit_resample(X, y)
counts = np.bincount(y_res)
assert len(X_res) == len(y_res) > len(y) and counts.min() == counts.max(), counts
print(f"over_sampling.AutoSMOTE: fit_resample, class counts {counts.tolist()}")

with tempfile.TemporaryDirectory() as tmp:
    path = Path(tmp) / "art.pt"
    art.save_fitted(path)
    loaded = skart.load_fitted(path, device="cpu")
    np.testing.assert_array_equal(loaded.predict_proba(X), art.predict_proba(X))
print("ARTClassifier: save_fitted / skart.load_fitted predict identically")

skart.show_versions()
print(f"wheel smoke test passed (Python {sys.version.split()[0]})")
