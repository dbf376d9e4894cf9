# Forbedring: the two commands are `make up` and `make test`.
SHELL := /bin/bash
INFRA := deploy/local/infra.sh
export PATH := $(HOME)/.local/bin:$(PATH)

.PHONY: up down test test-faults test-security lint docs infra-up infra-down infra-status deps schemas bench-national

deps:            ## install what is missing (system packages, Kafka jars, Python env)
	@$(INFRA) install
	@deploy/kubernetes/tools.sh install
	@deploy/observability/tools.sh install
	@uv sync --frozen

infra-up: deps   ## start Kafka, PostgreSQL, Redis and create the topics
	@$(INFRA) up

infra-down:
	@$(INFRA) down

infra-status:
	@$(INFRA) status

lint: deps
	uv lock --check
	uv run ruff check .
	uv run ruff format --check .
	uv run mypy

test: infra-up
	@source <($(INFRA) env) && uv run pytest

test-faults: infra-up  ## the fault suite alone (make test runs it too): tests/faults
	@source <($(INFRA) env) && uv run pytest tests/faults

test-security: infra-up  ## the security suite alone (make test runs it too), then docs/resilience.md
	@source <($(INFRA) env) && uv run pytest tests/security \
		services/publication/tests/integration/test_access_matrix.py \
		services/actionplan/tests/integration/test_access_matrix.py
	@uv run python -m tests.security.render

bench-national: infra-up  ## a national period end to end; figures to docs/benchmarks.md
	@source <($(INFRA) env) && uv run python -m bench.national --service-benches

docs: deps
	uv run python -m forbedring_contracts.generate

up: infra-up
	@deploy/local/stack.sh up

down:
	@-deploy/local/stack.sh down
	@$(INFRA) down
