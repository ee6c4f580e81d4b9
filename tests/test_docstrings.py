"""numpydoc validation of every public docstring (classes, functions, their methods)."""

import importlib
import inspect

import pytest

validate = pytest.importorskip("numpydoc.validate").validate
from numpydoc.docscrape import NumpyDocString  # noqa: E402

MODULES = [
    "skart",
    "skart.losses",
    "skart.datasets",
    "skart.ensemble",
    "skart.over_sampling",
]

# The numpydoc checks that fail the test (see numpydoc's "Validation" docs).
# Left out: GL01/GL02 (we open the summary on the line of the quotes), ES01
# (extended summary), SA01 (See Also), SS05 (infinitive verb), PR08/PR09
# (capital letter / final period of parameter descriptions), RT02 (we name
# return values: ``self : ARTClassifier``), RT03 (a Bunch return described by
# its type alone), EX01 on methods (the class Examples cover them).
CHECKED = {
    "GL03",  # double line break
    "GL05",  # tabs
    "GL06",  # unknown section
    "GL07",  # sections in the wrong order
    "GL08",  # no docstring
    "GL09",  # deprecation warning not first
    "GL10",  # reST directive missing a double colon
    "SS01",  # no summary
    "SS02",  # summary does not start with a capital letter
    "SS03",  # summary does not end with a period
    "SS04",  # summary with heading whitespace
    "SS06",  # summary spans several lines
    "PR01",  # parameter of the signature not documented
    "PR02",  # documented parameter not in the signature
    "PR03",  # parameters in the wrong order
    "PR04",  # parameter without a type
    "PR05",  # parameter type ending with a period
    "PR06",  # "integer"/"string"/"boolean" instead of int/str/bool
    "PR07",  # parameter without a description
    "PR10",  # missing space around the colon
    "RT01",  # returns a value but has no Returns section
    "RT04",  # return description does not start with a capital letter
    "RT05",  # return description does not end with a period
    "YD01",  # generator without a Yields section
}
CHECKED_TOP_LEVEL = {"EX01"}  # public classes and functions have Examples


def _own_doc(member):
    func = member.fget if isinstance(member, property) else member
    return getattr(getattr(func, "__func__", func), "__doc__", None)


def _public_methods(cls):
    """Public methods and properties defined on ``cls`` itself.

    A method that overrides one of a base class without a docstring of its
    own (a skorch hook, ``nn.Module.forward``) is documented by that base
    class's contract and skipped.
    """
    for name, member in vars(cls).items():
        if name.startswith("_"):
            continue
        if not (
            inspect.isfunction(member)
            or isinstance(member, classmethod | staticmethod | property)
        ):
            continue
        if _own_doc(member) is None and any(hasattr(b, name) for b in cls.__mro__[1:]):
            continue
        yield name


def _undescribed_parameters(name):
    """PR07 for parameters without a description.

    numpydoc skips this check for a parameter whose type is a set of options
    (``X : {array-like, sparse matrix}``), the most common type of all here.
    """
    module_name, _, rest = name.partition(".")
    obj = importlib.import_module(module_name)
    for part in rest.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:  # a sub-package not imported by its parent
            obj = importlib.import_module(f"{obj.__name__}.{part}")
    doc = NumpyDocString(inspect.getdoc(obj) or "")
    return [
        f'PR07: Parameter "{param.name}" has no description'
        for section in ("Parameters", "Other Parameters")
        for param in doc[section]
        if not "".join(param.desc).strip()
    ]


def _public_names():
    """``(dotted name, is a top-level object)`` of everything to validate."""
    names = []
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            names.append((f"{module_name}.{name}", True))
            if inspect.isclass(obj):
                names += [
                    (f"{module_name}.{name}.{m}", False) for m in _public_methods(obj)
                ]
    return names


@pytest.mark.parametrize(
    "name, top_level", [pytest.param(n, t, id=n) for n, t in _public_names()]
)
def test_docstring(name, top_level):
    checked = CHECKED | (CHECKED_TOP_LEVEL if top_level else set())
    errors = [
        f"{code}: {message}"
        for code, message in validate(name)["errors"]
        if code in checked and code != "PR07"
    ]
    errors += _undescribed_parameters(name)
    assert not errors, f"{name}:\n" + "\n".join(errors)
