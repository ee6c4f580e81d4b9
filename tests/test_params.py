"""skart's parameter validation (skart._params): scikit-learn's semantics and messages."""

from numbers import Integral, Real

import numpy as np
import pytest
import sklearn
from imblearn.over_sampling.base import BaseOverSampler
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression

from skart import AutoSMOTEClassifier
from skart._params import (
    HasMethods,
    Interval,
    InvalidParameterError,
    StrOptions,
    fit_context,
    validate_params,
)
from skart.over_sampling import AutoSMOTE


class Est(BaseEstimator):
    _parameter_constraints: dict = {
        "a": [Interval(Real, 0, 1, closed="both")],
        "b": [None, Interval(Integral, 1, None, closed="left")],
        "c": [StrOptions({"x", "y"}), callable],
        "d": [None, type, HasMethods(["fit", "predict"])],
        "e": ["boolean"],
        "f": ["verbose"],
        "g": ["random_state"],
        "h": [None, "array-like"],
        "i": "no_validation",
    }

    def __init__(self, a=0.5, b=None, c="x", d=None, e=False, f=0, g=None, h=None, i=0):
        self.a, self.b, self.c, self.d, self.e = a, b, c, d, e
        self.f, self.g, self.h, self.i = f, g, h, i

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X=None, y=None):
        self.inner_skip_ = sklearn.get_config()["skip_parameter_validation"]
        return self


class Meta(Est):
    @fit_context(prefer_skip_nested_validation=False)
    def fit(self, X=None, y=None):
        self.inner_skip_ = sklearn.get_config()["skip_parameter_validation"]
        Est(a=2).fit()  # validated: a meta-estimator's members are the user's
        return self


@pytest.mark.parametrize(
    "params, message",
    [
        ({"a": 2}, "The 'a' parameter of Est must be a float in the range [0.0, 1.0]"),
        ({"a": np.nan}, "must be a float in the range [0.0, 1.0]. Got nan instead."),
        ({"a": "1"}, "must be a float in the range [0.0, 1.0]. Got '1' instead."),
        ({"b": 0}, "'b' parameter of Est must be None or an int in the range [1, inf)"),
        ({"b": 1.0}, "must be None or an int in the range [1, inf). Got 1.0 instead."),
        ({"c": "z"}, "must be a str among {'x', 'y'} or a callable. Got 'z' instead."),
        (
            {"d": 3},
            "'d' parameter of Est must be None, an instance of 'type' or an object "
            "implementing 'fit' and 'predict'. Got 3 instead.",
        ),
        # numpy.bool_ before numpy 2, numpy.bool from it on
        ({"e": 1}, "must be an instance of 'bool' or an instance of 'numpy.bool"),
        ({"f": -1}, "must be an int in the range [0, inf), an instance of 'bool' or"),
        (
            {"g": -1},
            "must be an int in the range [0, 4294967295], an instance of "
            "'numpy.random.mtrand.RandomState' or None. Got -1 instead.",
        ),
        ({"h": 3}, "'h' parameter of Est must be None or an array-like. Got 3"),
    ],
)
def test_messages_are_scikit_learns(params, message):
    with pytest.raises(InvalidParameterError) as error:
        Est(**params).fit()
    assert message in str(error.value)


@pytest.mark.parametrize(
    "params",
    [
        {"a": 0},
        {"a": 1.0},
        {"a": np.float32(0.5)},
        {"b": np.int64(3)},
        {"c": len},
        {"d": int},
        {"d": LogisticRegression()},
        {"e": np.bool_(True)},
        {"f": True},
        {"g": np.random.RandomState(0)},
        {"h": [1, 2]},
        {"i": object()},  # not validated
    ],
)
def test_valid_values_pass(params):
    Est(**params).fit()


def test_error_is_a_value_and_type_error():
    assert issubclass(InvalidParameterError, ValueError)
    assert issubclass(InvalidParameterError, TypeError)


def test_foreign_constraints_and_hidden_ones():
    class Even:  # another library's constraint: is_satisfied_by and __str__
        hidden = False

        def is_satisfied_by(self, val):
            return isinstance(val, int) and val % 2 == 0

        def __str__(self):
            return "an even int"

    hidden = Even()
    hidden.hidden = True
    validate_params(Est(a=4), {"a": [Even()]})
    validate_params(Est(a=3), {"i": [Even()]})  # a is not checked here
    est = Est(a=3)
    with pytest.raises(InvalidParameterError, match="must be an even int. Got 3"):
        validate_params(est, {"a": [Even(), hidden]})
    with pytest.raises(InvalidParameterError, match=r"must be None\. Got 3"):
        validate_params(est, {"a": [None, hidden]})


def test_imblearn_sampling_strategy_constraint():
    # imbalanced-learn's own constraint objects, as AutoSMOTEClassifier uses them
    constraints = {
        "sampling_strategy": BaseOverSampler._parameter_constraints["sampling_strategy"]
    }
    for ok in ("auto", 0.5, {0: 10}, lambda y: {}):
        validate_params(AutoSMOTEClassifier(sampling_strategy=ok), constraints)
    with pytest.raises(InvalidParameterError, match="'sampling_strategy' parameter"):
        validate_params(AutoSMOTEClassifier(sampling_strategy="most"), constraints)


def test_unknown_constraint_is_refused():
    with pytest.raises(ValueError, match="Unknown constraint type: 'bool'"):
        validate_params(Est(), {"a": ["bool"]})


def test_fit_context_skips_nested_validation_as_scikit_learn_does():
    assert Est().fit().inner_skip_ is True
    meta = Meta()
    with pytest.raises(InvalidParameterError, match="'a' parameter of Est"):
        meta.fit()
    with sklearn.config_context(skip_parameter_validation=True):
        Est(a=2).fit()  # the global switch turns validation off
        assert Meta(a=2).fit().inner_skip_ is True


def test_sampler_validates_its_estimator():
    # scikit-learn's validator cannot take skart's constraint: the sampler
    # checks it itself, with the same message, in fit and fit_resample.
    X = np.random.RandomState(0).normal(size=(40, 2))
    y = np.array([0] * 30 + [1] * 10)
    match = (
        r"The 'estimator' parameter of AutoSMOTE must be None or an object "
        r"implementing 'fit' and 'predict'. Got 3 instead."
    )
    for method in ("fit", "fit_resample"):
        with pytest.raises(InvalidParameterError, match=match):
            getattr(AutoSMOTE(estimator=3), method)(X, y)
