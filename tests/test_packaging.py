"""The packaging metadata: one version, declared floors that are the tested ones."""

import re
from pathlib import Path

import pytest

import skart

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
REQUIREMENT = re.compile(r"^([A-Za-z0-9_.-]+)\s*>=\s*([0-9][^,;\s]*)")


def _floors(requirements):
    floors = {}
    for requirement in requirements:
        match = REQUIREMENT.match(requirement)
        assert match, f"{requirement!r} has no >= floor"
        floors[match[1].lower()] = match[2]
    return floors


def _release(version):
    """``"1.6"`` and ``"1.6.0"`` are the same release."""
    parts = [int(part) for part in version.split(".")]
    while parts and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def _min_deps():
    pins = {}
    for line in (ROOT / ".ci" / "min_deps.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.lower()] = version
    return pins


def test_the_version_has_one_source():
    project = PYPROJECT["project"]
    assert "version" not in project
    assert "version" in project["dynamic"]
    dynamic = PYPROJECT["tool"]["setuptools"]["dynamic"]["version"]
    assert dynamic == {"attr": "skart.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+((a|b|rc)\d+)?(\.dev\d+)?", skart.__version__)


def test_package_data_ships_py_typed_and_the_meta_sampler():
    package_data = PYPROJECT["tool"]["setuptools"]["package-data"]
    assert "py.typed" in package_data["skart"]
    assert (ROOT / "skart" / "py.typed").is_file()
    assert list((ROOT / "skart" / "ensemble" / "_data").glob("*.npz"))


def test_the_build_floor_reads_license_expressions():
    # PEP 639's `license` expression and `license-files` need setuptools 77.
    (requirement,) = PYPROJECT["build-system"]["requires"]
    name, floor = REQUIREMENT.match(requirement).groups()
    assert name == "setuptools"
    assert tuple(int(part) for part in floor.split(".")) >= (77,)


def test_min_deps_installs_the_declared_floors():
    """`make test-min-deps` tests the floors pyproject.toml declares, no others."""
    project = PYPROJECT["project"]
    runtime = _floors(project["dependencies"])
    declared = {**_floors(project["optional-dependencies"]["tests"]), **runtime}
    pins = _min_deps()
    assert set(runtime) <= set(pins), set(runtime) - set(pins)
    for name, version in pins.items():
        if name in declared:
            assert _release(version) == _release(declared[name]), (
                name,
                version,
                declared[name],
            )
