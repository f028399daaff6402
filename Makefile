# Two commands: `make run` serves the app, `make test` runs every check. Both are idempotent.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# Installs come from uv.lock only (`uv sync --locked`): what was tested is what gets installed.
# uv itself is pinned here and kept in .venv/.uv, outside what sync manages.
UV_VERSION := 0.13.9
UV := $(VENV)/.uv/bin/uv
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export UV_PYTHON_DOWNLOADS := never
export UV_NO_PROGRESS := 1
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
PIP_FLAGS ?= --disable-pip-version-check --quiet

.PHONY: help run test lint typecheck test-sqlite test-postgres browser monitoring-tools migrate seed lock clean

help:  ## List the commands
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

# The project's venv holds only what the lock names (no pip); uv lives in a venv of its own.
$(UV):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is required (found " + sys.version.split()[0] + ")")'
	$(PYTHON) -m venv --without-pip $(VENV)
	$(PYTHON) -m venv $(VENV)/.uv
	$(VENV)/.uv/bin/python -m pip install $(PIP_FLAGS) uv==$(UV_VERSION)

# Run: the app's locked dependencies (test tools, if there, stay: --inexact).
$(RUN_STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --inexact --python $(PY)
	@touch $@

# Test: exactly the locked app + test + bench set.
$(TEST_STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --extra test --extra bench --python $(PY)
	@touch $@ $(RUN_STAMP)

lock:  ## Refresh uv.lock from pyproject.toml (newest allowed versions), then `make test`
	$(MAKE) $(UV)
	$(UV) lock --upgrade

run: $(RUN_STAMP)  ## Install, migrate, seed and serve UI + API on http://localhost:$${PORT:-3000}
	$(VENV)/bin/agentplatform serve

migrate: $(RUN_STAMP)  ## Apply database migrations
	$(VENV)/bin/agentplatform migrate

seed: $(RUN_STAMP)  ## Create the demo owner on an empty database
	$(VENV)/bin/agentplatform seed

browser:  ## Make sure Debian's Chromium is there for the browser tests
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian's chromium for the browser tests..."; \
		apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "The browser tests need Chromium: run 'sudo apt-get install chromium' (Debian/Ubuntu) and try again." >&2; exit 1; \
	fi

# promtool (Debian's prometheus package) for the alert-rule tests; LuaJIT + lua-cjson run the
# Fluent Bit Lua filter in the log-shipping tests. The package's own prometheus daemon is
# never left running: one it started during the install is stopped by its pid.
MONITORING_APT := prometheus luajit lua-cjson
monitoring-tools:  ## Make sure promtool, luajit and lua-cjson are there for the monitoring tests
	@if command -v promtool >/dev/null 2>&1 && command -v luajit >/dev/null 2>&1 \
		&& luajit -e 'require("cjson")' >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian's $(MONITORING_APT) for the monitoring tests..."; \
		before="$$(pgrep -x prometheus || true)"; \
		apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends $(MONITORING_APT) >/dev/null; \
		for pid in $$(pgrep -x prometheus || true); do \
			case " $$before " in *" $$pid "*) ;; *) kill "$$pid";; esac; \
		done; \
	else \
		echo "The monitoring tests need promtool, luajit and lua-cjson: run 'sudo apt-get install --no-install-recommends $(MONITORING_APT)' (Debian/Ubuntu) and try again." >&2; exit 1; \
	fi

lint: $(TEST_STAMP)  ## Ruff (lint + format check)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(TEST_STAMP)  ## mypy on the package
	$(VENV)/bin/mypy agentplatform

# Everything on SQLite (with coverage), then every database-touching test on PostgreSQL.
PG_TESTS := tests/core tests/api tests/services tests/integration tests/deployment tests/client tests/security

test-sqlite: $(TEST_STAMP) browser monitoring-tools
	TEST_DB=sqlite $(PY) -m pytest --cov --cov-report=term:skip-covered --durations=10

test-postgres: $(TEST_STAMP) monitoring-tools
	TEST_DB=postgresql $(PY) -m pytest -m "not browser" -p no:cacheprovider --durations=10 $(wildcard $(PG_TESTS))

test: lint typecheck test-sqlite test-postgres  ## Every check: lint, types, the suite on SQLite (with coverage) and PostgreSQL

clean:  ## Remove the venv, the frontend build and caches (keeps data/)
	rm -rf $(VENV) .web .states .pytest_cache .mypy_cache .ruff_cache .coverage
