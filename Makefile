# Porchlight — `make run` starts everything with a demo workspace; `make test` runs the suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench lint setup clean

setup: $(STAMP)

# The virtual environment, rebuilt when the package list changes.
$(STAMP): pyproject.toml
	@$(PYTHON) -m venv --help >/dev/null 2>&1 || { \
	  echo "python3 venv is missing; installing it with apt-get"; \
	  apt-get update -q && apt-get install -y -q python3-venv; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade "pip>=24"
	$(BIN)/pip install -q -e ".[test]"
	@touch $(STAMP)

run: setup
	$(BIN)/porchlight run $(ARGS)

test: setup
	$(BIN)/python -m porchlight.broker
	$(BIN)/python -m tests $(ARGS)

bench: setup
	$(BIN)/python -m porchlight.broker
	$(BIN)/python bench/portal_pages.py $(ARGS)

lint: setup
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .stack tests/output bench/results
