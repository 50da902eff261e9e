# quantwatch: the one entry point. `make` alone lists the targets.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
# The PromQL and LogQL grammars the dashboard lint and tests parse with (npm), reinstalled when their lock changes.
GRAMMAR := dashboards/grammar
GRAMMAR_STAMP := $(GRAMMAR)/node_modules/.installed-$(shell cksum $(GRAMMAR)/package-lock.json | cut -d' ' -f1)
# Files `make generate` writes; `make check` fails when they differ from what is committed.
GENERATED := provisioning/prometheus/rules alertmanager/alertmanager.yml dashboards/json docs/alerts.md docs/runbook.md scaleout/prometheus/targets/bots.json exporter/quantwatch/thresholds.py deploy/kubernetes
SCRIPTS := .ci/run $(wildcard compose/*.sh testbed/*.sh deploy/*.sh)

.PHONY: help install grammar lint test test-unit check check-generated generate schemas bench testbed up down logs ps clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  \033[1m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP) ## Create .venv with the library and the dev tools (pinned)

# --loglevel=error: @grafana/lezer-logql declares Node >= 24 but runs on Node 20, so npm's engine warning is noise.
$(GRAMMAR_STAMP): $(GRAMMAR)/package-lock.json
	@command -v node >/dev/null && command -v npm >/dev/null || { echo "make: Node.js 20+ and npm are needed for the PromQL and LogQL grammars in $(GRAMMAR) (e.g. apt-get install nodejs npm)" >&2; exit 1; }
	cd $(GRAMMAR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

grammar: $(GRAMMAR_STAMP) ## Install the PromQL and LogQL grammars (npm ci in dashboards/grammar, pinned by its lock)

lint: install ## ruff (lint + format), mypy --strict and shellcheck
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/shellcheck -x $(SCRIPTS)

testbed: ## Build or reuse the real servers, docker-compose and the Kubernetes check tools at the pinned versions (cache: ~/.cache/quantwatch)
	testbed/build.sh all
	compose/install-compose.sh >/dev/null
	deploy/tools.sh

test: install grammar testbed ## All tests, unit and against the real servers
	$(PY) -m pytest

test-unit: install grammar ## Only the tests that need nothing built (no server, no docker-compose)
	$(PY) -m pytest -m "not servers"

generate: install grammar ## Regenerate rules, routes, docs and dashboards from their sources
	$(PY) -m alerts.generate
	$(PY) -m dashboards.generate
	$(PY) -m scaleout.inventory
	$(PY) -m deploy.generate

check-generated: generate ## Fail when a generated file differs from what is committed
	@git add -N $(GENERATED) 2>/dev/null || true
	@git diff --exit-code --stat -- $(GENERATED) || { echo "generated files are stale: run 'make generate' and commit" >&2; exit 1; }

check: lint grammar check-generated testbed ## All static validation: lint, generated files, server configs
	$(PY) -m dashboards.lint
	$(PY) compose/check_compose.py
	$(PY) -m alerts.check
	$(PY) -m deploy.check

schemas: install ## Refresh deploy/schemas (kubeconform's CRD and built-in schemas) from the pinned modules and package
	$(PY) -m deploy.schemas

bench: install testbed ## Benchmarks against baselines, printed side by side (BENCH="--smoke shipping" to choose)
	$(PY) -m bench $(BENCH)

# PROFILE=ha: the scale-out and HA profile (compose/compose.ha.yaml, docs/scale-out.md); its TLS
# material and passwords come from scaleout/pki.py, in the venv.
PROFILE ?=

up: $(if $(filter ha,$(PROFILE)),install) ## Start the whole stack with Docker compose (PROFILE=ha: the HA profile)
	$(if $(filter ha,$(PROFILE)),$(PY) -m scaleout.pki)
	QW_PROFILE=$(PROFILE) compose/stack.sh up

down: ## Stop the stack (data volumes are kept)
	QW_PROFILE=$(PROFILE) compose/stack.sh down

logs: ## Follow the stack's logs
	QW_PROFILE=$(PROFILE) compose/stack.sh logs

ps: ## Show the stack's services and their health
	QW_PROFILE=$(PROFILE) compose/stack.sh ps

clean: ## Remove the virtualenv and caches in the repo (the server cache stays)
	rm -rf $(VENV) $(GRAMMAR)/node_modules .mypy_cache .ruff_cache .pytest_cache .hypothesis
