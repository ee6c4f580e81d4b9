"""skart uses scikit-learn's public API only.

scikit-learn moves and renames its private modules and names between releases
(skorch broke on 1.4, 1.6 and 1.8 for that); skart's own parameter validation
is :mod:`skart._params`. This scans the package's source, so a private import
that comes back fails here, naming the file and line.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "skart"


def _private(name):
    """``_x`` is private; ``__version__`` and the like are not."""
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _sklearn_private(dotted):
    """A dotted ``sklearn...`` path up to its first private part, or None."""
    parts = dotted.split(".")
    if parts[0] != "sklearn":
        return None
    for i, part in enumerate(parts):
        if _private(part):
            return ".".join(parts[: i + 1])
    return None


def private_sklearn_uses(source, filename="<source>"):
    """``(filename, line, what)`` for each private scikit-learn import or access.

    Caught: ``import sklearn._x``, ``from sklearn._x import y``,
    ``from sklearn.y import _z``, attribute access such as
    ``sklearn.utils._x`` and dotted strings such as
    ``importlib.import_module("sklearn.utils._x")``.
    """
    found = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _sklearn_private(alias.name):
                    found.append((filename, node.lineno, f"import {alias.name}"))
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            if _sklearn_private(node.module):
                names = ", ".join(alias.name for alias in node.names)
                found.append(
                    (filename, node.lineno, f"from {node.module} import {names}")
                )
            elif node.module.split(".")[0] == "sklearn":
                for alias in node.names:
                    if _private(alias.name):
                        found.append(
                            (
                                filename,
                                node.lineno,
                                f"from {node.module} import {alias.name}",
                            )
                        )
        elif isinstance(node, ast.Attribute):
            parts, base = [node.attr], node.value
            while isinstance(base, ast.Attribute):
                parts.append(base.attr)
                base = base.value
            if isinstance(base, ast.Name) and base.id == "sklearn":
                private = _sklearn_private(".".join(["sklearn", *reversed(parts)]))
                if private:
                    found.append((filename, node.lineno, private))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value.strip()
            if " " not in text and _sklearn_private(text):
                found.append((filename, node.lineno, repr(text)))
    # an access sklearn.a._b.c is found at each level: report it once
    return sorted(set(found))


def test_no_private_sklearn_import():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        found += private_sklearn_uses(path.read_text(encoding="utf-8"), rel)
    assert not found, (
        "private scikit-learn modules or names (use the public API, "
        "sklearn-compat or skart._params):\n"
        + "\n".join(f"  {file}:{line}: {what}" for file, line, what in found)
    )


@pytest.mark.parametrize(
    "source",
    [
        "from sklearn.utils._param_validation import Interval",
        "from sklearn.base import _fit_context",
        "from sklearn.utils.validation import check_array, _check_sample_weight",
        "import sklearn.utils._optional_dependencies",
        "import sklearn.utils._param_validation as pv",
        "import sklearn\nsklearn.utils._param_validation.Interval",
        "import importlib\nimportlib.import_module('sklearn.utils._testing')",
    ],
)
def test_scanner_finds_private_uses(source):
    # The scan must not pass for want of looking.
    found = private_sklearn_uses(source, "mod.py")
    assert found and all(file == "mod.py" for file, _, _ in found)


@pytest.mark.parametrize(
    "source",
    [
        "from sklearn.utils.validation import validate_data, check_is_fitted",
        "import sklearn\nsklearn.__version__",
        "from sklearn import config_context, get_config",
        "from imblearn.over_sampling.base import BaseOverSampler",
        "from ._params import Interval, _join",
        "x = 'sklearn is private_ly _fine here'",
    ],
)
def test_scanner_passes_public_uses(source):
    assert private_sklearn_uses(source) == []
