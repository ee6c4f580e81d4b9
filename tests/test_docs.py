"""The documentation covers the public API and builds without warnings."""

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
MODULES = [
    "skart",
    "skart.losses",
    "skart.datasets",
    "skart.ensemble",
    "skart.over_sampling",
]


def _api_entries():
    """``{module: names}`` listed under each ``currentmodule`` of api.rst."""
    entries, module = {}, None
    for line in (DOCS / "api.rst").read_text().splitlines():
        if match := re.match(r"\.\. currentmodule:: (\S+)", line):
            module = match[1]
        elif module and re.fullmatch(r"   [A-Za-z_]\w*", line):
            entries.setdefault(module, set()).add(line.strip())
    return entries


@pytest.mark.parametrize("module_name", MODULES)
def test_api_page_lists_every_public_name(module_name):
    public = set(importlib.import_module(module_name).__all__)
    listed = _api_entries().get(module_name, set())
    assert public - listed == set(), "missing from docs/api.rst"
    assert listed - public == set(), "listed in docs/api.rst but not public"


@pytest.mark.slow
def test_docs_build_without_warnings(tmp_path):
    """Build the HTML docs, gallery not run (the gallery takes minutes)."""
    pytest.importorskip("sphinx")
    pytest.importorskip("sphinx_gallery")
    pytest.importorskip("numpydoc")
    pytest.importorskip("pydata_sphinx_theme")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            "-D",
            "plot_gallery=0",
            "-d",
            str(tmp_path / "doctrees"),
            str(DOCS),
            str(tmp_path / "html"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-5000:]
    assert (tmp_path / "html" / "gen_modules" / "skart.ARTClassifier.html").is_file()
