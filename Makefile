# Two commands set everything up:  `make up` (the lab) and `make test` (every test).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: up down test unit lab pipeline lint bench bench-pipeline bench-mechanisms

$(BIN)/harness: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

up: $(BIN)/harness            ## host setup + images + 3-node kind cluster + the pipeline
	$(BIN)/harness up

down: $(BIN)/harness
	$(BIN)/harness down

test: $(BIN)/harness          ## lint, unit tests, then the lab tests on the real cluster
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	.ci/actionlint
	$(BIN)/harness host setup
	$(BIN)/harness host chromium
	$(BIN)/pytest

unit: $(BIN)/harness
	$(BIN)/pytest -m "not lab"

lab: $(BIN)/harness
	$(BIN)/pytest -m lab

pipeline: $(BIN)/harness
	$(BIN)/pytest -m pipeline

lint: $(BIN)/harness
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy && .ci/actionlint

bench: $(BIN)/harness         ## cold/warm build, cluster up, memory (slow: rebuilds)
	$(BIN)/python bench/lab.py

bench-pipeline: $(BIN)/harness  ## warm bring-up until data flows; steady-state CPU and memory
	$(BIN)/python bench/pipeline.py

bench-mechanisms: $(BIN)/harness  ## the mechanism suite: wall time, per-test time, MTTR against bound
	$(BIN)/python bench/mechanisms.py
