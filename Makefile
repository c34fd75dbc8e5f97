# The two commands of the README: `make run` and `make test`. Both set everything up themselves.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.run-installed
DEV_STAMP := $(VENV)/.dev-installed

.PHONY: run test lint typecheck pytest bench mutation clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $@ $(RUN_STAMP)

run: $(RUN_STAMP)
	$(BIN)/timeline db upgrade
	$(BIN)/timeline serve

lint: $(DEV_STAMP)
	$(BIN)/ruff check timeline alerts tests bench
	$(BIN)/mypy timeline alerts
	$(BIN)/lint-imports --no-cache
	$(BIN)/python scripts/check_shape.py

pytest: $(DEV_STAMP)
	$(BIN)/pytest --cov --cov-report=term:skip-covered --cov-fail-under=85

test: lint pytest

bench: $(DEV_STAMP)
	$(BIN)/python -m bench

# Mutation testing of the pure decision modules, each against its own tests (minutes; not part of
# `make test`). Figures and the surviving mutants judged equivalent: docs/mutation.md.
mutation: $(DEV_STAMP)
	$(BIN)/python scripts/mutation.py

clean:
	rm -rf $(VENV) var config/var build *.egg-info
