# Every target installs what it needs into .venv from the locked files, so a fresh clone
# needs nothing but python3 (>= 3.11) and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PREFECT_SERVER_ANALYTICS_ENABLED := false
# The demo and the report show their own story; the tests keep Prefect's own levels.
QUIET_PREFECT := PREFECT_LOGGING_LEVEL=$${PREFECT_LOGGING_LEVEL:-WARNING}
DEMO_DIR := $(CURDIR)/.demo

.PHONY: demo report test test-fast lint bench venv lock lock-verify clean

$(STAMP): requirements/build.lock requirements/runtime.lock requirements/dev.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/build.lock -r requirements/dev.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

venv: $(STAMP)

# `make demo DEMO_ARGS=--web` keeps the web app running at the end and prints its address.
DEMO_ARGS ?=
demo: $(STAMP)
	rm -rf $(DEMO_DIR)
	$(QUIET_PREFECT) PILOTSCALE_DATA_DIR=$(DEMO_DIR) $(BIN)/python -m pilotscale.demo examples/acme-ai-assistant.yaml $(DEMO_ARGS)

# The example report: the demo's eight weeks in a throwaway store, the example usage export
# imported on top, then the page as of the last simulated Monday.
REPORT ?= $(CURDIR)/report.html
report: $(STAMP)
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(QUIET_PREFECT) PILOTSCALE_DATA_DIR=$$tmp $(BIN)/python -m pilotscale.demo examples/acme-ai-assistant.yaml > $$tmp/demo.log && \
	PILOTSCALE_DATA_DIR=$$tmp $(BIN)/pilotscale metrics import examples/acme-usage.csv --as-of 2026-12-21T08:00Z && \
	PILOTSCALE_DATA_DIR=$$tmp $(BIN)/pilotscale report --out $(REPORT) --as-of 2026-12-21T08:00Z

test: $(STAMP)
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

# pilotscale against the lower bound and the naive design (bench/RESULTS.md); about 15 min
# on SQLite and PostgreSQL. `make bench BENCH_ARGS=--quick` is a one-minute smoke run.
BENCH_ARGS ?=
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python scripts/typecheck.py

# Known vulnerabilities in the locked dependencies (pip-audit; needs PyPI's JSON API or
# OSV). Fails on a finding; only warns when no service answers (docs/reliability.md).
audit: $(STAMP)
	$(BIN)/python scripts/audit_locks.py requirements/runtime.lock requirements/dev.lock

# Re-resolve the locks from requirements/*.in. Versions already locked stay unless named:
# `make lock UPGRADE="sqlalchemy fastapi"` lets those move, `make lock UPGRADE=all` everything.
# Then the scheduler tests run against the new lock, and only if they pass is it stamped
# (requirements/verified.sha256); tests/test_locks.py fails on a lock that was never stamped.
UPGRADE ?=
lock:
	$(PYTHON) scripts/lock.py $(if $(filter all,$(UPGRADE)),--upgrade-all,$(foreach p,$(UPGRADE),--upgrade $(p)))
	$(MAKE) lock-verify

lock-verify: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider tests/deployments/test_scheduler.py
	$(BIN)/python scripts/lock.py --stamp

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache
