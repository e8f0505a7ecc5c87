# make demo  -- create .venv, install, run the main job on the bundled fixtures
# make test  -- create .venv, install, run the test suite, then ruff and mypy
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test bench fixtures clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,web,dask]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m scopecheck.demo

test: $(STAMP)
	$(PY) -m pytest -q
	$(PY) -m ruff check .
	$(PY) -m mypy

bench: $(STAMP)
	for b in bench/bench_*.py; do $(PY) $$b || exit 1; done

fixtures: $(STAMP)
	$(PY) fixtures/make_fixtures.py

clean:
	rm -rf $(VENV) out
