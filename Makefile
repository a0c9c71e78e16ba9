# Porchlight — `make run` starts everything with a demo workspace; `make test` runs the suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench lint setup clean system-packages catalogs messages

# Debian packages the tests need: Chromium for the browser tests, DejaVu for PDF text.
TEST_PACKAGES := chromium fonts-dejavu-core
BENCH_PACKAGES := wrk

setup: $(STAMP) catalogs

# The translations: each language's catalog (.po, written by people) compiled for the
# programs (.mo, never committed), again whenever the catalog changes.
TRANSLATIONS := porchlight/translations
CATALOGS := $(wildcard $(TRANSLATIONS)/*/LC_MESSAGES/messages.po)
catalogs: $(CATALOGS:.po=.mo)

%.mo: %.po $(STAMP)
	$(BIN)/pybabel -q compile --statistics -i $< -o $@

# After changing words in code or templates: the template of every catalog (messages.pot)
# read from the sources again, and each catalog given the new sentences to translate.
messages: $(STAMP)
	$(BIN)/pybabel -q extract -F $(TRANSLATIONS)/babel.cfg -k N_ --no-location --project=Porchlight --version=0.1 \
	  --sort-output --no-wrap -o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel -q update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-fuzzy-matching \
	  --ignore-obsolete --no-wrap

# Installs what is missing with apt-get when run as root; otherwise says what to install.
define require_packages
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing system packages:$$missing"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -q && apt-get install -y -q --no-install-recommends $$missing; \
	  else \
	    echo "Missing system packages:$$missing. Install them: apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi
endef

system-packages:
	$(call require_packages,$(TEST_PACKAGES))

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
	$(BIN)/python -m devtools.run $(ARGS)

test: setup system-packages
	$(BIN)/python -m devtools.broker
	$(BIN)/python -m tests $(ARGS)

bench: setup
	$(call require_packages,$(BENCH_PACKAGES))
	$(BIN)/python -m devtools.broker
	$(BIN)/python bench/portal_pages.py $(ARGS)

lint: setup
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .stack tests/output bench/results
