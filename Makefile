# Yanxing — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
DEMO_DIVISIONS := --prefix 140822 --prefix 510521 --prefix 441900
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test deps system-deps python-deps node-deps messages lint typecheck migrations-check \
        test-sqlite test-postgres serve demo bench clean

run: deps
	DJANGO_SETTINGS_MODULE=config.settings.local $(MANAGE) migrate --noinput
	DJANGO_SETTINGS_MODULE=config.settings.local $(MANAGE) load_divisions $(DEMO_DIVISIONS)
	DJANGO_SETTINGS_MODULE=config.settings.local $(MANAGE) load_demo
	DJANGO_SETTINGS_MODULE=config.settings.local scripts/serve

test: deps lint typecheck migrations-check test-sqlite test-postgres

deps: system-deps python-deps node-deps messages

system-deps:
	@scripts/system-deps

python-deps: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

node-deps: node_modules/.installed
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

messages: python-deps
	cd yanxing && env -u DJANGO_SETTINGS_MODULE ../$(BIN)/django-admin compilemessages --ignore=.venv -v 0

lint: python-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: python-deps
	$(BIN)/mypy config yanxing bench

migrations-check: python-deps
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py makemigrations --check --dry-run

test-sqlite: python-deps node-deps
	YANXING_DB=sqlite scripts/pytest-run -n 2

test-postgres: python-deps
	scripts/with-postgres scripts/pytest-run -n 2 -m "not browser"

bench: deps
	$(BIN)/python bench/registry.py

clean:
	rm -rf $(VENV) node_modules var staticfiles test-artifacts
