"""scikit-learn's estimator contract, on a small and fast configuration."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skart import ARTClassifier, EGAClassifier


@parametrize_with_checks(
    [
        ARTClassifier(max_epochs=20, lr=1e-2, random_state=0),
        ARTClassifier(max_epochs=20, lr=1e-2, art=False, random_state=0),
        EGAClassifier(pretrain_epochs=20, max_epochs=3, lr=1e-2, random_state=0),
    ],
    # None expected: the estimator passes every check.
    expected_failed_checks=lambda est: {},
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
