# The README's commands. Each one works on a fresh clone: it creates .venv,
# installs the pinned CPU torch first (constraints.txt), then the package.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install -q -c constraints.txt

.PHONY: setup demo test test-slow test-min-deps test-wheel lint clean docs

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

# The default suite against the lowest versions pyproject.toml declares
# (.ci/min_deps.txt), in its own environment; skart itself goes in without
# dependencies so that pip cannot lift a floor behind our back.
MIN_VENV := .venv-min
$(MIN_VENV)/.done: pyproject.toml .ci/min_deps.txt
	rm -rf $(MIN_VENV)
	$(PYTHON) -m venv $(MIN_VENV)
	$(MIN_VENV)/bin/python -m pip install -q --upgrade pip
	$(MIN_VENV)/bin/python -m pip install -q -r .ci/min_deps.txt \
		pytest==9.0.3 pytest-xdist==3.8.0 numpydoc==1.11.0 distributed==2026.8.0
	$(MIN_VENV)/bin/python -m pip install -q --no-deps -e .
	touch $@

test-min-deps: $(MIN_VENV)/.done
	$(MIN_VENV)/bin/python -m pip list --format=freeze | grep -iE \
		'^(torch|scikit-learn|imbalanced-learn|skorch|numpy|scipy|tqdm|pandas|matplotlib)=='
	OMP_NUM_THREADS=1 $(MIN_VENV)/bin/python -m pytest -n 2 -q

# Build the sdist and wheel, check them, install the wheel into a clean
# environment outside the tree and run a smoke test there (.ci/wheel_smoke.sh).
test-wheel: $(VENV)/.done-tests
	PYTHON=$(PY) bash .ci/wheel_smoke.sh

clean:
	rm -rf $(VENV) $(MIN_VENV) build dist *.egg-info

# HTML documentation in docs/_build/html; runs the gallery examples (a few
# minutes). SPHINXOPTS="-D plot_gallery=0" skips running them.
SPHINXOPTS ?=
docs: $(VENV)/.done-docs
	$(PY) -m sphinx -W --keep-going -b html $(SPHINXOPTS) docs docs/_build/html
