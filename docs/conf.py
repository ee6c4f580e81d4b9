"""Sphinx configuration of the skart documentation.

Build with ``make docs`` (or ``sphinx-build -W --keep-going -b html docs
docs/_build/html``). ``make docs SPHINXOPTS="-D plot_gallery=0"`` skips running
the gallery examples.
"""

import os
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent

# The gallery trains small networks on a few shared CPU cores: one thread each
# is faster than several competing ones. Set before torch is imported.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
# Examples load the benchmark data through skart.datasets, which reads
# $SKART_DATA; use the offline copy beside the repository when there is one.
_SHARED_DATA = ROOT.parent / "shared" / "data"
if "SKART_DATA" not in os.environ and _SHARED_DATA.is_dir():
    os.environ["SKART_DATA"] = str(_SHARED_DATA)

sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS))  # gallery_helpers
import skart  # noqa: E402

# -- project -------------------------------------------------------------------

project = "skart"
author = "skart developers"
copyright = "skart developers, BSD-3-Clause"
release = skart.__version__
version = ".".join(release.split(".")[:2])

# -- extensions ----------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "matplotlib.sphinxext.plot_directive",
]

# Markdown pages (performance, benchmarks) need MyST.
try:
    import myst_parser  # noqa: F401
except ImportError:
    source_suffix = {".rst": "restructuredtext"}
else:
    extensions.append("myst_parser")
    source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
    myst_heading_anchors = 3

# Links into the docs of numpy, torch, scikit-learn, ... need their inventories
# from the network; the offline build leaves those names as plain text.
if os.environ.get("SKART_DOCS_INTERSPHINX"):
    extensions.append("sphinx.ext.intersphinx")
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
        "imblearn": ("https://imbalanced-learn.org/stable", None),
        "torch": ("https://docs.pytorch.org/docs/stable", None),
        "skorch": ("https://skorch.readthedocs.io/en/stable", None),
        "matplotlib": ("https://matplotlib.org/stable", None),
    }

templates_path = ["_templates"]
# _static holds benchmark reports in markdown: files to download, not pages.
exclude_patterns = ["_build", "_static/**.md", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]
# Pages listed in the index's toctree (in place of the OPTIONAL_PAGES line)
# only when their file exists, so the build passes while they are written.
# The benchmark pages sit under one "Benchmarks" entry (benchmarks_index), so
# that the navigation bar holds every top-level page at a laptop's width.
OPTIONAL_PAGES = [
    "benchmarks_index",
    "performance",
    "scaling",
    "reliability",
]

default_role = "literal"

# -- autodoc, autosummary, numpydoc ------------------------------------------------

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"
numpydoc_show_class_members = False  # the class template lists the methods
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# -- sphinx-gallery ----------------------------------------------------------------


sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    # demo.py is the README's command-line demo, not a gallery page.
    "ignore_pattern": r"^(__init__|demo|torchrun_art)\.py$",
    "doc_module": ("skart",),
    "backreferences_dir": "gen_modules/backreferences",
    "reference_url": {"skart": None},
    # Helpers are named by import path, so that Sphinx can cache the config.
    "reset_modules": ("matplotlib", "gallery_helpers.reset_torch"),
    "min_reported_time": 1,
    "remove_config_comments": True,
    "within_subsection_order": "gallery_helpers.ExampleOrder",
    "show_memory": False,
    "download_all_examples": False,
}

# -- plot directive (figures of the user guide) ------------------------------------

plot_include_source = False
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 110)]
plot_rcparams = {"figure.figsize": (8, 3.6)}

# -- HTML ----------------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"skart {release}"
html_static_path = []
html_show_sourcelink = False
# "fit()" rather than "ARTClassifier.fit()" in the page's table of contents.
toc_object_entries_show_parents = "hide"
html_theme_options = {
    "navbar_align": "left",
    # Every top-level page in the bar (the default folds the sixth on into "More").
    "header_links_before_dropdown": 8,
    "show_toc_level": 2,
    "navigation_with_keys": False,
    # The examples' code needs the width more than a table of contents.
    "secondary_sidebar_items": {"auto_examples/plot_*": []},
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_context = {"default_mode": "light"}
# Pages without sub-pages have nothing for the left sidebar.
html_sidebars = {"index": [], "user_guide": []}


# -- hooks ----------------------------------------------------------------------


def _insert_optional_pages(app, docname, source):
    if docname != "index":
        return
    present = [
        page
        for page in OPTIONAL_PAGES
        if any((DOCS / f"{page}{suffix}").is_file() for suffix in source_suffix)
    ]
    source[0] = source[0].replace(
        "   OPTIONAL_PAGES\n", "".join(f"   {page}\n" for page in present)
    )


def _reread_index(app, env, added, changed, removed):
    # The index's toctree depends on which optional pages exist: read it again
    # at every build, not only when index.rst changes.
    return ["index"]


def _skip_member(app, what, name, obj, skip, options):
    # scikit-learn generates set_<method>_request on every estimator class;
    # they belong to its metadata-routing API, documented there.
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


_SHAPE_NAME = re.compile(r"(?<![`\w])([A-Za-z]\w*_)(?=[,)])")


def _quote_shape_names(app, what, name, obj, options, lines):
    # "of shape (n_features_in_,)" is scikit-learn's idiom; in reST a bare
    # name_ is a link to a target. Quote such names in shape descriptions.
    for i, line in enumerate(lines):
        if "of shape (" in line:
            lines[i] = _SHAPE_NAME.sub(r"`\1`", line)


def setup(app):
    app.connect("source-read", _insert_optional_pages)
    app.connect("env-get-outdated", _reread_index)
    app.connect("autodoc-process-docstring", _quote_shape_names)
    app.connect("autodoc-skip-member", _skip_member)
