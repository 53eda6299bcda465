# Every install step lives here: a fresh machine needs only Python 3 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two stamps in one venv: the demo needs only the "inbox" extra, the tests need everything. The full install
# also stamps the demo's, so `make demo` after `make test` installs nothing; `make test` after `make demo`
# still installs the test and dev extras.
STAMP := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.installed-demo

.PHONY: demo test lint pytest bench clean

# A venv's own pip may predate editable installs of a pyproject project (PEP 660, pip 21.3): only then upgrade.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet 'pip>=21.3'

$(DEMO_STAMP): setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[inbox]'
	touch $(DEMO_STAMP)

$(STAMP): setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[inbox,test,dev]'
	touch $(STAMP) $(DEMO_STAMP)

demo: $(DEMO_STAMP)
	$(BIN)/sendcloud-logging demo

test: $(STAMP) lint pytest

lint: $(STAMP)
	$(BIN)/ruff check sendcloud_logging tests
	$(BIN)/mypy

# Most tests wait on sockets, subprocesses and a browser, not on the CPU: two workers keep the suite near a
# minute on two cores. `make pytest PYTEST_WORKERS=0` runs it in one process (for pdb, or to read its order).
PYTEST_WORKERS ?= 2

pytest: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# Benchmarks run in their own venv: the peers they compare against are no dependency of the package.
BENCH_VENV := benchmarks/.venv
BENCH_STAMP := $(BENCH_VENV)/.installed

$(BENCH_STAMP): benchmarks/requirements.txt setup.cfg pyproject.toml
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -r benchmarks/requirements.txt -e '.[inbox]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python benchmarks/run.py

clean:
	rm -rf $(VENV) $(BENCH_VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
