"""Parameter validation: the constraints of skart's estimators and their check.

scikit-learn's own tools for this (``Interval``, ``StrOptions``, ``HasMethods``,
``_fit_context``) live in private modules, which move between releases. This
module holds the few skart needs, with scikit-learn's semantics and its error
messages ("The 'c' parameter of ARTClassifier must be a float in the range
[0.0, 1.0]. Got 2 instead."), on its public configuration only:
``sklearn.get_config()["skip_parameter_validation"]`` and
``sklearn.config_context``.

An estimator lists its constraints in ``_parameter_constraints``, a dict
``{name: [constraint, ...]}`` (or ``{name: "no_validation"}``), and decorates
``fit`` with :func:`fit_context`. A value is valid when it satisfies one of its
constraints. A constraint is None, a type, the builtin ``callable``, one of the
strings ``"boolean"``, ``"verbose"``, ``"random_state"``, ``"array-like"``, or
any object with ``is_satisfied_by(value)`` and a ``__str__`` that completes
"must be ...": the classes below, or another library's (imbalanced-learn's
``sampling_strategy`` constraints) without importing where they are defined.
"""

import functools
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn import config_context, get_config


class InvalidParameterError(ValueError, TypeError):
    """A parameter of an estimator has an invalid type or value.

    A ``ValueError`` and a ``TypeError``, as scikit-learn's own.
    """


def _type_name(t):
    if t.__module__ == "builtins":
        return t.__qualname__
    if t is Real:
        return "float"
    if t is Integral:
        return "int"
    return f"{t.__module__}.{t.__qualname__}"


def _join(constraints):
    """``"a, b or c"``: the constraints as "must be ..." ends a sentence."""
    names = [str(c) for c in constraints]
    if len(names) == 1:
        return names[0]
    return f"{', '.join(names[:-1])} or {names[-1]}"


class Interval:
    """Numbers of one type in an interval.

    Parameters
    ----------
    type : {numbers.Integral, numbers.Real}
        The numbers allowed (``Real`` admits ints too).
    left, right : int, float or None
        The bounds; None is unbounded.
    closed : {"left", "right", "both", "neither"}
        Which bounds belong to the interval.
    """

    def __init__(self, type, left, right, *, closed):
        if type not in (Integral, Real):
            raise ValueError(
                f"type must be numbers.Integral or numbers.Real; got {type}."
            )
        if closed not in ("left", "right", "both", "neither"):
            raise ValueError(
                f"closed must be 'left', 'right', 'both' or 'neither'; got {closed!r}."
            )
        self.type, self.left, self.right, self.closed = type, left, right, closed

    def is_satisfied_by(self, val):
        """Whether ``val`` is a number of the type, inside the interval.

        Parameters
        ----------
        val : object
            The value to check.

        Returns
        -------
        bool
            True when the constraint holds.
        """
        if not isinstance(val, self.type):
            return False
        if not isinstance(val, Integral) and np.isnan(val):
            return False
        left = -np.inf if self.left is None else self.left
        right = np.inf if self.right is None else self.right
        if val < left or (val == left and self.closed in ("right", "neither")):
            return False
        if val > right or (val == right and self.closed in ("left", "neither")):
            return False
        return True

    def __str__(self):
        integral = self.type is Integral
        left = "-inf" if self.left is None else self.left
        right = "inf" if self.right is None else self.right
        if not integral:  # 0 -> 0.0, as the range of floats reads
            left = left if self.left is None else float(left)
            right = right if self.right is None else float(right)
        return (
            f"{'an int' if integral else 'a float'} in the range "
            f"{'[' if self.closed in ('left', 'both') else '('}{left}, "
            f"{right}{']' if self.closed in ('right', 'both') else ')'}"
        )


class StrOptions:
    """One of a set of strings.

    Parameters
    ----------
    options : set of str
        The strings allowed.
    """

    def __init__(self, options):
        self.options = options

    def is_satisfied_by(self, val):
        """Whether ``val`` is one of the strings.

        Parameters
        ----------
        val : object
            The value to check.

        Returns
        -------
        bool
            True when the constraint holds.
        """
        return isinstance(val, str) and val in self.options

    def __str__(self):
        options = ", ".join(repr(o) for o in sorted(self.options))
        return f"a str among {{{options}}}"


class HasMethods:
    """Any object with the named methods (a protocol, not a class).

    Parameters
    ----------
    methods : str or list of str
        The methods the object must have.
    """

    def __init__(self, methods):
        self.methods = [methods] if isinstance(methods, str) else list(methods)

    def is_satisfied_by(self, val):
        """Whether ``val`` has every method, callable.

        Parameters
        ----------
        val : object
            The value to check.

        Returns
        -------
        bool
            True when the constraint holds.
        """
        return all(callable(getattr(val, m, None)) for m in self.methods)

    def __str__(self):
        names = [repr(m) for m in self.methods]
        if len(names) > 1:
            names = [f"{', '.join(names[:-1])} and {names[-1]}"]
        return f"an object implementing {names[0]}"


class _Check:
    """A constraint from a predicate and its description."""

    def __init__(self, predicate, text):
        self.predicate, self.text = predicate, text

    def is_satisfied_by(self, val):
        return self.predicate(val)

    def __str__(self):
        return self.text


class _AnyOf:
    """A constraint satisfied by any of several (the named string constraints)."""

    def __init__(self, *constraints):
        self.constraints = constraints

    def is_satisfied_by(self, val):
        return any(c.is_satisfied_by(val) for c in self.constraints)

    def __str__(self):
        return _join(self.constraints)


def _instances_of(t):
    return _Check(lambda val: isinstance(val, t), f"an instance of {_type_name(t)!r}")


def _is_array_like(val):
    if sp.issparse(val) or np.isscalar(val):
        return False
    return hasattr(val, "__len__") or hasattr(val, "shape") or hasattr(val, "__array__")


_NONE = _Check(lambda val: val is None, "None")
_NAMED = {
    "boolean": _AnyOf(_instances_of(bool), _instances_of(np.bool_)),
    # bool is an Integral, so True passes the interval, as in scikit-learn
    "verbose": _AnyOf(
        Interval(Integral, 0, None, closed="left"),
        _instances_of(bool),
        _instances_of(np.bool_),
    ),
    "random_state": _AnyOf(
        Interval(Integral, 0, 2**32 - 1, closed="both"),
        _instances_of(np.random.RandomState),
        _NONE,
    ),
    "array-like": _Check(_is_array_like, "an array-like"),
}


def make_constraint(constraint):
    """The constraint object for one entry of a constraint list.

    Parameters
    ----------
    constraint : object
        None, a type, ``callable``, ``"boolean"``, ``"verbose"``,
        ``"random_state"``, ``"array-like"``, or an object with
        ``is_satisfied_by``.

    Returns
    -------
    object
        An object with ``is_satisfied_by(value)`` and ``__str__``.
    """
    if constraint is None:
        return _NONE
    if constraint is callable:
        return _Check(callable, "a callable")
    if isinstance(constraint, type):
        return _instances_of(constraint)
    if isinstance(constraint, str) and constraint in _NAMED:
        return _NAMED[constraint]
    if callable(getattr(constraint, "is_satisfied_by", None)):
        return constraint
    raise ValueError(f"Unknown constraint type: {constraint!r}")


def validate_params(estimator, constraints=None):
    """Check an estimator's parameters against their constraints.

    Parameters
    ----------
    estimator : estimator instance
        Its ``get_params(deep=False)`` are checked.
    constraints : dict or None, default=None
        ``{name: [constraint, ...] or "no_validation"}``; None takes the
        class's ``_parameter_constraints``. Parameters without an entry are
        not checked.

    Raises
    ------
    InvalidParameterError
        For the first parameter that satisfies none of its constraints.
    """
    if constraints is None:
        constraints = type(estimator)._parameter_constraints
    for name, value in estimator.get_params(deep=False).items():
        allowed = constraints.get(name, "no_validation")
        if isinstance(allowed, str) and allowed == "no_validation":
            continue
        allowed = [make_constraint(c) for c in allowed]
        if any(c.is_satisfied_by(value) for c in allowed):
            continue
        # a constraint may be hidden from users (scikit-learn's Hidden)
        shown = [c for c in allowed if not getattr(c, "hidden", False)]
        raise InvalidParameterError(
            f"The {name!r} parameter of {type(estimator).__name__} must be "
            f"{_join(shown)}. Got {value!r} instead."
        )


def fit_context(*, prefer_skip_nested_validation):
    """Decorate ``fit``: validate the parameters, then fit.

    As scikit-learn's own: nothing is validated while scikit-learn's
    ``skip_parameter_validation`` is set, and the fit runs with it set when
    ``prefer_skip_nested_validation`` is True (the estimators and functions
    the fit calls then skip their validation).

    Parameters
    ----------
    prefer_skip_nested_validation : bool
        False for estimators given other estimators, whose parameters the
        user set and must be validated.

    Returns
    -------
    callable
        The decorator.
    """

    def decorator(fit_method):
        @functools.wraps(fit_method)
        def wrapper(estimator, *args, **kwargs):
            skip = get_config()["skip_parameter_validation"]
            if not skip:
                validate_params(estimator)
            with config_context(
                skip_parameter_validation=prefer_skip_nested_validation or skip
            ):
                return fit_method(estimator, *args, **kwargs)

        return wrapper

    return decorator
