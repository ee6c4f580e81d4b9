"""scikit-learn's estimator contract, on a small and fast configuration."""

from conftest import NETWORK_ESTIMATORS
from imblearn.utils.estimator_checks import (
    parametrize_with_checks as imblearn_checks,
)
from sklearn.utils.estimator_checks import parametrize_with_checks
from sklearn.utils.validation import has_fit_parameter

from skart import ARTClassifier, AutoSMOTEClassifier
from skart._nn._estimator import BaseNetClassifier
from skart.ensemble import MESAClassifier
from skart.over_sampling import AutoSMOTE

# scikit-learn asks a weighted fit to equal, to 1e-7, a fit on repeated rows.
# A network trained on random minibatches of a random validation split can
# only be equivalent in distribution; scikit-learn waives the check for its
# own stochastic estimators (SGDClassifier, Perceptron, ...) for this reason
# and plans a statistical test instead (scikit-learn#16298). skart runs that
# statistical test for each network: tests/test_sample_weight.py.
SAMPLE_WEIGHT_EQUIVALENCE = (
    "a weighted fit equals a fit on repeated rows in distribution, not to 1e-7: "
    "see tests/test_sample_weight.py"
)
# MESA's members train on random subsets of a random validation split, as
# BaggingClassifier's and RandomForestClassifier's do, which scikit-learn
# waives for the same reason: repeated rows change the draws (a copy can land
# in both folds). Weights of 0 are exact (the rows are dropped); integer
# weights are tested in distribution in tests/test_mesa.py.
MESA_SAMPLE_WEIGHT_EQUIVALENCE = (
    "random subsets and split: a weighted fit equals a fit on repeated rows in "
    "distribution (tests/test_mesa.py), as for BaggingClassifier"
)
EQUIVALENCE_CHECKS = (
    "check_sample_weight_equivalence_on_dense_data",
    "check_sample_weight_equivalence_on_sparse_data",
)


# scikit-learn's class_weight check weighs class 0 1000 and the others 1e-4 and
# asks that 87 % of predictions be class 0. class_weight is exactly the sample
# weights of its classes (tests/test_sample_weight.py); these two methods by
# design do not let a per-class constant weight decide the classifier.
CLASS_WEIGHT_CHECK = {
    # Stage 2 draws every class equally: a weight shared by a class's rows
    # cancels out of class-balanced sampling.
    "DecoupledClassifier": "class-balanced re-training (stage 2) cancels "
    "per-class weights by design",
    # The bilevel step sizes its oversampling by each class's share of the
    # weight; a class of weight 1e-4 rounds to no rows, and imbalanced-learn
    # refuses one class. The same weights as sample_weight fail alike.
    "AutoSMOTEClassifier": "a class of weight 1e-4 sizes to 0 rows in the "
    "oversampling strategy (as the same sample_weight does)",
}


def _expected_failed_checks(estimator):
    # Only estimators that take sample weights and train on random draws.
    if not has_fit_parameter(estimator, "sample_weight"):
        return {}
    if isinstance(estimator, BaseNetClassifier):
        failed = dict.fromkeys(EQUIVALENCE_CHECKS, SAMPLE_WEIGHT_EQUIVALENCE)
        reason = CLASS_WEIGHT_CHECK.get(type(estimator).__name__)
        if reason is not None:
            failed["check_class_weight_classifiers"] = reason
        return failed
    if isinstance(estimator, MESAClassifier):
        return dict.fromkeys(EQUIVALENCE_CHECKS, MESA_SAMPLE_WEIGHT_EQUIVALENCE)
    return {}


@parametrize_with_checks(
    [entry.for_checks() for entry in NETWORK_ESTIMATORS]
    + [MESAClassifier(n_estimators=3, random_state=0)],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


# MESA with ART members: the contract holds for a cascade of networks too. The
# checks' smallest data sets leave a member 2 rows per class; ART's default
# 15 % validation fold would be empty there, half of each class is not.
@parametrize_with_checks(
    [
        MESAClassifier(
            ARTClassifier(
                max_epochs=5, lr=1e-2, validation_fraction=0.5, random_state=0
            ),
            n_estimators=2,
            random_state=0,
        )
    ],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible_mesa_art(estimator, check):
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
