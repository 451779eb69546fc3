# Two commands set everything up on a fresh machine:
#   make run    - install, migrate, load the statement and serve http://127.0.0.1:8000/
#   make test   - install and run the whole test suite
# Needs Python >= 3.12 (found on PATH or through pyenv) and installs uv if it is missing.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# pyenv shims refuse versions that are not enabled: enable every installed 3.12+ for this run.
PYENV_312 := $(shell command -v pyenv >/dev/null 2>&1 && pyenv versions --bare 2>/dev/null | grep -E '^3\.(1[2-9]|[2-9][0-9])(\.[0-9]+)?$$' | sort -rV | paste -sd: -)
ifneq ($(PYENV_312),)
export PYENV_VERSION := $(PYENV_312):$(shell pyenv global 2>/dev/null | paste -sd: -)
endif

# (make 4.3 does not pass exported variables to $(shell), hence the explicit prefix.)
PYTHON := $(shell export PYENV_VERSION="$(PYENV_VERSION)"; for p in python3.12 python3.13 python3 python; do \
	exe=$$($$p -c 'import sys; print(sys.executable if sys.version_info >= (3, 12) else "")' 2>/dev/null); \
	if [ -n "$$exe" ]; then echo "$$exe"; break; fi; done)
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help install bytecode e2e-deps run stack test lint format check messages bench chaos \
	backup restore clean

help:
	@echo "make run    - set up and serve the site at http://$(HOST):$(PORT)/ (embedded default)"
	@echo "make test   - run the whole test suite"
	@echo "make lint   - ruff check and format check"
	@echo "make bench  - load benchmarks against the production-like stack"
	@echo "make stack  - run the whole stack from the Procfile (web, worker, beat, proxy)"
	@echo "make backup - dump the database to $(BACKUP_DIR)/; make restore BACKUP=file"

.tools/bin/uv:
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is required (none found on PATH or in pyenv)."; exit 1; }
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is required (none found on PATH or in pyenv)."; exit 1; }
	UV_PYTHON=$(PYTHON) UV_PYTHON_DOWNLOADS=never $(UV) sync --frozen --compile-bytecode
	@touch $@

install: $(VENV)/.installed messages bytecode e2e-deps

# These machines set PYTHONDONTWRITEBYTECODE=1: nothing is compiled on import, so a process
# that imports lazily would compile on its first request. The dependencies are compiled by
# `uv sync --compile-bytecode`, the project here (only what changed since the last run).
bytecode: $(VENV)/.installed
	@$(PY) -m compileall -q -j 0 -x '(^|/)(\.[a-z]+|node_modules|staticfiles|private)/' .

# The browser tests inject axe-core (from npm) into pages; without npm they say so and skip.
e2e-deps:
	@if command -v npm >/dev/null 2>&1; then \
		test -f tests/e2e/node_modules/axe-core/axe.min.js || \
		(cd tests/e2e && npm ci --no-audit --no-fund --silent); \
	else echo "npm not found: browser accessibility checks will be skipped"; fi

messages: $(VENV)/.installed
	@$(MANAGE) compilemessages --ignore '.venv/*' --ignore '.tools/*' -v0

run: install
	$(MANAGE) migrate --noinput
	$(MANAGE) load_statement
	$(MANAGE) runserver $(HOST):$(PORT)

# The whole stack from the Procfile, as the README's operations section sets it up.
# nginx's site (deploy/nginx/petition.conf.template) for the Procfile's proxy, rendered with
# these values; each may be set in the environment.
export PETITION_LISTEN ?= 127.0.0.1:8080
export PETITION_SERVER_NAME ?= localhost 127.0.0.1
export PETITION_UPSTREAM ?= 127.0.0.1:8000
export PETITION_STATIC_ROOT ?= $(CURDIR)/staticfiles
export PETITION_LISTS_ROOT ?= $(CURDIR)/public
export PETITION_CACHE_DIR ?= $(CURDIR)/var/nginx/cache
export PETITION_SIGN_RATE ?= 30r/m
export PETITION_SIGN_BURST ?= 30

stack: install
	$(MANAGE) migrate --noinput
	$(MANAGE) load_statement
	$(MANAGE) collectstatic --noinput -v0
	mkdir -p var/nginx/temp
	$(PY) -c 'import os, string, sys; sys.stdout.write(string.Template(open("deploy/nginx/petition.conf.template").read()).safe_substitute({k: v for k, v in os.environ.items() if k.startswith("PETITION_")}))' > var/nginx/petition.conf
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/honcho start

# Backups of the database DATABASE_URL names (PostgreSQL: pg_dump's custom format; the
# embedded SQLite file: a copy). `make restore BACKUP=file` loads one into an empty database.
BACKUP_DIR ?= backups
backup: $(VENV)/.installed
	$(MANAGE) backup --output-dir "$(BACKUP_DIR)"

restore: $(VENV)/.installed
	@test -n "$(BACKUP)" || { echo "usage: make restore BACKUP=backups/<file>"; exit 1; }
	$(MANAGE) restore "$(BACKUP)"

# Fault-injection tests take minutes: `make chaos` runs them, and so does .ci/run.
PYTEST_ARGS ?= -m "not chaos"

test: install
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

format: $(VENV)/.installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

check: $(VENV)/.installed
	$(MANAGE) makemigrations --check --dry-run
	DEBUG=false SECRET_KEY=check-only-$$(date +%s)-not-a-real-secret-key-0123456789abcdef ALLOWED_HOSTS=example.org EMAIL_URL=smtp://127.0.0.1:25 \
		$(MANAGE) check --deploy --fail-level WARNING

bench: install
	$(PY) -m tests.bench.run

chaos: install
	$(VENV)/bin/pytest -m chaos

clean:
	rm -rf $(VENV) .tools staticfiles
