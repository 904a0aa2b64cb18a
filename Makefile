# Pebble Orchestrator. The two commands: `make up` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: up install test lint format clean bench system-deps

up: install system-deps
	$(BIN)/pebble up

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip wheel

# Re-installs when pyproject.toml changes; prepares the dbt manifest at install time.
$(STAMP): pyproject.toml constraints.txt | $(VENV)/bin/python
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	cd dbt && ../$(BIN)/dbt parse --quiet
	touch $(STAMP)

install: $(STAMP)

# Debian packages the tests need (a real IMAP server, a browser for the UI tests).
system-deps:
	bash scripts/install-system-deps.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: install system-deps lint
	$(BIN)/pytest -q

# One report (bench/report.md + report.json): every stage, ours against a naive baseline in the
# same run, at scales 1, 10 and 100 (the expensive stages stop at 10). BENCH_ARGS=--quick: smoke run.
bench: install
	nice -n 10 $(BIN)/python bench/report.py $(BENCH_ARGS)

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf .pebble dbt/target dbt/logs .pytest_cache .ruff_cache
