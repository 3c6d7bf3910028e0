# One command to set up and start the demo, one to set up and run every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint typecheck pytest fuzz bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/tunedeck demo

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy src tests bench

pytest: $(STAMP)
	$(BIN)/python -m tests.prepare
	$(BIN)/python -m pytest -n 2  # two workers: most tests wait on servers, not the CPU

test: lint typecheck pytest

# Schemathesis over the REST description and the GraphQL schema, 12,000 requests (make
# test runs the same with about 1,000). Needs PostgreSQL and Redis, as the tests do.
fuzz: $(STAMP)
	TUNEDECK_FUZZ_CASES=12000 $(BIN)/python -m pytest -p no:randomly -s tests/player/test_schemathesis.py

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
