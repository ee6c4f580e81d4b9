"""skart.show_versions: the report a bug report asks for."""

import platform
import sys
from importlib.metadata import version

import numpy
import scipy
import sklearn
import skorch
import torch

import skart
from skart import _show_versions


def _lines(text):
    """``{key: value}`` of the report's ``key: value`` lines."""
    pairs = (line.split(": ", 1) for line in text.splitlines() if ": " in line)
    return {key.strip(): value.strip() for key, value in pairs}


def test_show_versions_prints_system_torch_and_dependencies(capsys):
    skart.show_versions()
    out = capsys.readouterr().out
    for heading in (
        "System:",
        "torch:",
        "Python dependencies:",
        "Optional dependencies:",
    ):
        assert f"\n{heading}\n" in out
    lines = _lines(out)
    assert lines["python"] == sys.version.replace("\n", " ")
    assert lines["executable"] == sys.executable
    assert lines["machine"] == platform.platform()
    assert lines["skart"] == skart.__version__
    assert lines["torch"] == torch.__version__
    assert lines["skorch"] == skorch.__version__
    assert lines["scikit-learn"] == sklearn.__version__
    assert lines["imbalanced-learn"] == version("imbalanced-learn")
    assert lines["numpy"] == numpy.__version__
    assert lines["scipy"] == scipy.__version__
    assert lines["cuda available"] == str(torch.cuda.is_available())
    assert lines["threads"] == str(torch.get_num_threads())
    for optional in ("pandas", "matplotlib", "distributed", "optuna"):
        assert optional in lines


def test_show_versions_names_a_missing_optional_package_none(capsys, monkeypatch):
    monkeypatch.setattr(
        _show_versions, "_OPTIONAL", [*_show_versions._OPTIONAL, "no-such-package-x"]
    )
    skart.show_versions()
    assert _lines(capsys.readouterr().out)["no-such-package-x"] == "None"


def test_show_versions_github_markup(capsys):
    skart.show_versions(github=True)
    out = capsys.readouterr().out
    assert out.startswith("<details>\n<summary>")
    assert out.rstrip().endswith("</details>")
    assert f"* skart: `{skart.__version__}`" in out
    assert f"* torch: `{torch.__version__}`" in out
    assert f"* scikit-learn: `{sklearn.__version__}`" in out
    assert "**Optional dependencies**" in out


def test_show_versions_reports_a_broken_torch(capsys, monkeypatch):
    # A torch that fails to import is the likeliest reason for a report.
    monkeypatch.setitem(sys.modules, "torch", None)
    skart.show_versions()
    assert _lines(capsys.readouterr().out)["import"].startswith(
        "failed (ModuleNotFoundError"
    )
