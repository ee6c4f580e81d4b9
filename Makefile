# The README's commands. Each one works on a fresh clone: it creates .venv,
# installs the pinned CPU torch first (constraints.txt), then the package.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install -q -c constraints.txt

.PHONY: setup demo test test-slow lint clean docs

$(VENV)/.done-%: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip
	$(PIP) torch==2.13.0
	$(PIP) -e ".[$*]"
	touch $@

setup: $(VENV)/.done-tests

demo: $(VENV)/.done-tests
	OMP_NUM_THREADS=1 $(PY) examples/demo.py --out demo_output

test: $(VENV)/.done-tests
	OMP_NUM_THREADS=1 $(PY) -m pytest -n 2 -q

test-slow: $(VENV)/.done-tests
	$(PY) -m pytest -q -m slow

lint: $(VENV)/.done-tests
	$(PY) -m pip install -q ruff
	$(PY) -m ruff check skart tests benchmarks examples
	$(PY) -m ruff format --check skart tests benchmarks examples

clean:
	rm -rf $(VENV) build *.egg-info

# HTML documentation in docs/_build/html; runs the gallery examples (a few
# minutes). SPHINXOPTS="-D plot_gallery=0" skips running them.
SPHINXOPTS ?=
docs: $(VENV)/.done-docs
	$(PY) -m sphinx -W --keep-going -b html $(SPHINXOPTS) docs docs/_build/html
