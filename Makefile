# cityops — two commands on a fresh clone: `make run` and `make test`.
# Needs only Python 3.11 and make: uv is bootstrapped from PyPI into .tools/, and the
# locked environment (uv.lock) is synced into .venv/.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export CITYOPS_HOME ?= $(CURDIR)/data
export UV_PYTHON := $(PYTHON)
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)

# The demo: 30 days of 静安区 from 2024-07-01 at district scale.
DEMO_ARGS ?= --start 2024-07-01 --days 30 --seed 7 --scale 1.0

.PHONY: help setup run test lint fmt dev dashboards bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Bytecode is compiled at install: every cityops, dbt and test process then starts without
# compiling dagster and dbt from source (import dagster, dagster_dbt: 5.1 s → 2.0 s), also
# where PYTHONDONTWRITEBYTECODE keeps Python from caching what it compiled.
$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --quiet --compile-bytecode
	@touch $@

# The Dagster definitions are built from dbt's manifest; dbt parse needs no warehouse or key.
DBT_SOURCES := $(shell find dbt/dbt_project.yml dbt/profiles.yml dbt/models dbt/macros dbt/seeds dbt/data-tests ingestion/reference -type f -not -path "*/__pycache__/*" 2>/dev/null)
DBT_MANIFEST := dbt/target/manifest.json

$(DBT_MANIFEST): $(VENV)/.synced $(DBT_SOURCES)
	cd dbt && ../$(BIN)/dbt parse --quiet
	@touch $@

setup: $(VENV)/.synced $(DBT_MANIFEST) ## Create the locked environment in .venv and parse dbt

run: setup ## Generate the demo sources, ingest them and build the warehouse (CITYOPS_HOME=./data)
	$(BIN)/cityops generate $(DEMO_ARGS)
	$(BIN)/cityops run
	@# The demo's disposal system answers the 吹哨 orders; the second run closes the loop.
	$(BIN)/cityops dispatch simulate
	$(BIN)/cityops run
	@echo "Done. Inspect with: $(BIN)/cityops status   |   $(BIN)/cityops warnings   |   UI: make dev"
	@echo "Dashboards: $(BIN)/cityops dashboards up (or make dashboards), then:"
	@$(BIN)/cityops dashboards login

# Two pytest-xdist workers: one test process leaves a core idle most of the time (the suite's
# CPU time is about 0.85 of its wall time on one worker). Each module runs on one worker, the
# longest first by the last run's durations (tests/conftest.py). `make test TEST_WORKERS=0`
# runs in one process.
TEST_WORKERS ?= 2

test: setup lint ## Lint, then run every test tier (TEST_WORKERS=2 xdist workers)
	$(BIN)/pytest -n $(TEST_WORKERS)

SQL := dbt/models dbt/macros dbt/data-tests docs/analyst-queries.sql

lint: setup ## ruff (lint + format check) and sqlfluff (DuckDB dialect)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint $(SQL)

fmt: setup ## Format Python and fix SQL style
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	$(BIN)/sqlfluff fix $(SQL)

# dagster dev re-parses dbt on load with the `dbt` it finds on PATH, so the venv goes first.
# The instance's dagster.yaml (runs one at a time, telemetry off) exists before dagster dev reads it.
dev: setup ## Dagster UI on http://127.0.0.1:3000 with the runs of `make run`
	$(BIN)/python -c 'import sys; from pathlib import Path; from dagster_project.execution import dagster_instance_folder; dagster_instance_folder(Path(sys.argv[1]))' "$(CITYOPS_HOME)/dagster"
	PATH="$(CURDIR)/$(BIN):$$PATH" DAGSTER_HOME=$(CITYOPS_HOME)/dagster $(BIN)/dagster dev -m dagster_project.definitions -h 127.0.0.1 -p 3000

# Superset in .superset-venv/, served on http://127.0.0.1:8088; `cityops dashboards down` stops it.
dashboards: setup ## Superset dashboards on http://127.0.0.1:8088 (installs and provisions them)
	$(BIN)/cityops dashboards up

# BENCH_ARGS="--scale district-year" for the year-long run (hours; docs/performance.md).
BENCH_ARGS ?= --scale small
bench: setup ## Benchmark against a raw-DuckDB baseline (report in $CITYOPS_HOME/bench/)
	nice -n 19 $(BIN)/cityops bench $(BENCH_ARGS)

clean: ## Remove generated data and environments
	@[ ! -x $(BIN)/cityops ] || $(BIN)/cityops dashboards down
	rm -rf data $(VENV) $(TOOLS) .superset-venv .pytest_cache .ruff_cache
