# The two commands of the README:
#   make book   set up .venv and build the whole book (PROFILE=smoke|quick|paper, CHAPTER=<paper key>,
#               SCHEDULER=tcp://host:8786 or local:N to run the notebooks on Dask workers)
#   make test   set up .venv and run the tests (unit, statistical, papermill, smoke build of the book)
PYTHON ?= python3
VENV ?= .venv
PROFILE ?= quick
CHAPTER ?=
SCHEDULER ?=
PY := $(VENV)/bin/python

.PHONY: setup book test clean-cache bench

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

book: setup
	$(PY) -m ftlib.build --profile $(PROFILE) $(if $(CHAPTER),--chapter $(CHAPTER)) $(if $(SCHEDULER),--scheduler $(SCHEDULER))

test: setup
	$(PY) -m pytest -q

bench: setup
	$(PY) benchmarks/bench_faults.py

clean-cache: setup
	$(PY) -m ftlib.store clear
