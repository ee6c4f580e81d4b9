"""scikit-learn's estimator contract, on a small and fast configuration."""

from imblearn.utils.estimator_checks import (
    parametrize_with_checks as imblearn_checks,
)
from sklearn.utils.estimator_checks import parametrize_with_checks

from skart import ARTClassifier, AutoSMOTEClassifier
from skart.over_sampling import AutoSMOTE


@parametrize_with_checks(
    [
        ARTClassifier(max_epochs=20, lr=1e-2, random_state=0),
        ARTClassifier(max_epochs=20, lr=1e-2, art=False, random_state=0),
        AutoSMOTEClassifier(
            max_epochs=12, lr=1e-2, k_max=2, objective="joint", random_state=0
        ),
    ],
    # None expected: the estimator passes every check.
    expected_failed_checks=lambda est: {},
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@imblearn_checks(
    [
        AutoSMOTE(
            estimator=AutoSMOTEClassifier(
                max_epochs=2, k_max=2, batch_size=256, objective="joint"
            ),
            random_state=0,
        )
    ],
    # None expected: the sampler passes every check.
    expected_failed_checks=lambda est: {},
)
def test_imblearn_compatible_sampler(estimator, check):
    check(estimator)
