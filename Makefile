# Every target installs what it needs: `make up` and `make test` work from a fresh clone.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: help venv tools emulator lint unit test up down status verify deliveries contract-check bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt requirements-dev.txt receiver/requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	  || { echo "error: Python 3.11+ is required (PYTHON=$(PYTHON) is $$($(PYTHON) -V 2>&1))"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "installing the library (editable), the receiver's and the dev dependencies into $(VENV)"
	@$(PY) -m pip install --disable-pip-version-check -q --upgrade pip
	@$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	@# The repo-only packages (infra, receiver, simulator, tooling, tests, bench) are not in
	@# the distribution: this checkout's root on the venv's path makes them importable from
	@# any folder, the dynamic-provider processes the engine starts included.
	@echo "$(CURDIR)" > "$$($(PY) -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/texter_webhooks_checkout.pth"
	@touch $@

venv: $(STAMP)  ## create .venv and install the project in editable mode

emulator:  ## provide Google's Pub/Sub emulator (installed from apt when missing)
	@scripts/ensure-pubsub-emulator

tools: venv  ## provide the Pulumi engine matching the SDK (built and cached on first run)
	@scripts/bootstrap-pulumi $(PY)

lint: venv  ## ruff (lint + format check) and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: tools emulator lint  ## lint, types and every test (unit, integration, infra, e2e, Pub/Sub emulator)
	@status=0; $(PY) -m pytest $(PYTEST_ARGS) || status=$$?; \
	  if [ $$status -eq 5 ]; then echo "error: pytest collected no tests"; fi; exit $$status

unit: venv  ## the fast tests only (no engine)
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

# LOCAL_SINK=file runs the receiver with its file sink: no Pub/Sub emulator to provide.
UP_NEEDS := tools $(if $(filter file,$(LOCAL_SINK)),,emulator)

up: $(UP_NEEDS)  ## run the local stack: simulator + receiver + real `pulumi up` (LOCAL_SINK=file: no emulator)
	@$(PY) -m tooling.local_stack up

down: tools  ## destroy the local stack and stop its processes
	@$(PY) -m tooling.local_stack down

status: venv  ## show what the local stack runs
	@$(PY) -m tooling.local_stack status

verify: venv  ## live status and recent deliveries of the local stack's subscriptions
	@$(PY) -m tooling.verify

deliveries: venv  ## failed deliveries since SINCE (default 24h) of STACK=<name> (or TEXTER_BASE_URL/TEXTER_TOKEN)
	@$(PY) -m tooling.deliveries $(if $(STACK),--stack $(STACK)) $(if $(SINCE),--since $(SINCE))

contract-check: venv  ## check the Texter API routes against a real tenant (TEXTER_BASE_URL/TEXTER_TOKEN or STACK=<name>)
	@$(PY) -m tooling.contract_check $(if $(STACK),--stack $(STACK))

bench: tools  ## run the benchmarks (see bench/README.md); installs wrk when missing
	@command -v wrk >/dev/null || { echo "installing wrk (Debian package)"; \
	  apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null; }
	@$(PY) -m bench

clean:  ## remove the venv and local state (the engine cache is kept)
	rm -rf $(VENV) .tools .state .mypy_cache .ruff_cache .pytest_cache
