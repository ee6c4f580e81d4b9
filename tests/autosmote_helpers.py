"""Small AutoSMOTE configurations and data shared by test_autosmote.py and
test_over_sampling.py (a helper module, not a test module)."""

from sklearn.datasets import make_classification

from skart import AutoSMOTEClassifier


def tiny(**params):
    # The joint objective unless a test asks otherwise: a third of the cost.
    return AutoSMOTEClassifier(
        **{
            "max_epochs": 3,
            "batch_size": 128,
            "objective": "joint",
            "random_state": 0,
            **params,
        }
    )


def three_class_data():
    """240 rows of 4 features, three classes of 60/30/10 %."""
    return make_classification(
        n_samples=240,
        n_features=4,
        n_informative=3,
        n_redundant=0,
        n_classes=3,
        weights=[0.6, 0.3, 0.1],
        random_state=0,
    )
