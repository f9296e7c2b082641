# Two commands matter: `make demo` (install, migrate, load reference data, seed demo data, serve on
# http://127.0.0.1:8000 with SQLite and eager Celery) and `make test` (the whole test suite).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python$(shell cat .python-version 2>/dev/null) || command -v python3.13 || command -v python3.12 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: help venv check-system demo serve test lint migrate reference seed worker beat clean bench-template bench-ingest bench-declaration bench-export

help:
	@echo "make demo    install, migrate, load reference data, seed demo users and serve on http://$(HOST):$(PORT)"
	@echo "make test    run the whole test suite (SQLite by default; set DATABASE_URL for PostgreSQL)"
	@echo "make lint    ruff"
	@echo "make worker / make beat   Celery worker / scheduler (needs CELERY_BROKER_URL)"
	@echo "make bench-template       time parsing the Commission communication template examples"
	@echo "make bench-ingest         time a 1,000,000-line customs import against a raw PostgreSQL COPY (LINES=N)"
	@echo "make bench-declaration    time recomputing a declaration of 1,000,000 lines, 10,000 installations (PostgreSQL; LINES=N INSTALLATIONS=N)"
	@echo "make bench-export         time and memory of exporting that declaration's draft in each format (PostgreSQL; FORMATS=json,csv,...)"

$(STAMP): pyproject.toml
	@echo "==> Checking Python ($(PYTHON))"
	@test -n "$(PYTHON)" || { echo "ERROR: no python3 found. Install Python 3.12 or newer (the repo pins $$(cat .python-version))."; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' || { \
		echo "ERROR: $(PYTHON) is Python $$($(PYTHON) -c 'import platform; print(platform.python_version())'); the portal needs 3.12 or newer (the repo pins $$(cat .python-version))."; exit 1; }
	@echo "==> Creating virtualenv in $(VENV)"
	@$(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	@echo "==> Installing the portal and its test tools (this takes a minute the first time)"
	@$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	@touch $(STAMP)

venv: $(STAMP)

check-system: $(STAMP)
	@$(PY) -c 'import weasyprint' 2>/dev/null || { \
		echo "ERROR: WeasyPrint cannot load its system libraries (Pango, HarfBuzz)."; \
		echo "       On Debian/Ubuntu: sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0"; \
		echo "       On macOS: brew install pango"; exit 1; }

migrate: check-system
	@echo "==> Migrating the database ($${DATABASE_URL:-SQLite db.sqlite3})"
	@$(PY) manage.py migrate --no-input -v 0

reference: migrate
	@echo "==> Loading reference data (Annex I goods, default values, benchmarks, CBAM factor, CSCF, prices)"
	@# The Commission's workbooks, when present (CBAM_SHARED_DATA_DIR), are loaded last and become the current default values and benchmarks.
	@SHARED="$$($(PY) manage.py shell -v 0 -c 'from django.conf import settings; print(settings.CBAM_SHARED_DATA_DIR)')" || exit 1; \
	WB="$$SHARED/commission-workbooks"; \
	if [ -f "$$WB/default_values.xlsx" ] && [ -f "$$WB/benchmarks.xlsx" ]; then \
		echo "    with the Commission workbooks from $$WB"; \
		$(PY) manage.py load_reference_data --with-builtin --default-values-xlsx "$$WB/default_values.xlsx" --benchmarks-xlsx "$$WB/benchmarks.xlsx"; \
	else \
		echo "    (no Commission workbooks in $$WB: default values and benchmarks come from the opencbam package)"; \
		$(PY) manage.py load_reference_data; \
	fi

seed: reference
	@echo "==> Seeding demo organisations and users"
	@PORTAL_BASE_URL=$${PORTAL_BASE_URL:-http://$(HOST):$(PORT)} $(PY) manage.py seed_demo

demo: seed
	@echo "==> Serving the portal on http://$(HOST):$(PORT)/ (Ctrl-C to stop)"
	@DJANGO_DEBUG=$${DJANGO_DEBUG:-1} PORTAL_BASE_URL=$${PORTAL_BASE_URL:-http://$(HOST):$(PORT)} $(PY) manage.py runserver $(HOST):$(PORT)

serve: check-system
	@DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) manage.py runserver $(HOST):$(PORT)

test: check-system
	@echo "==> Running the test suite on $${DATABASE_URL:-SQLite}"
	@$(PY) -m pytest -n $${PYTEST_WORKERS:-2} $(PYTEST_ARGS)

lint: $(STAMP)
	@$(VENV)/bin/ruff check .

worker: $(STAMP)
	@$(VENV)/bin/celery -A cbam_portal worker -l info

beat: $(STAMP)
	@$(VENV)/bin/celery -A cbam_portal beat -l info

bench-template: $(STAMP)
	@$(PY) bench/template_read.py

bench-ingest: $(STAMP)
	@$(PY) bench/ingest.py $(if $(LINES),--lines $(LINES),)

bench-declaration: $(STAMP)
	@$(PY) bench/declaration.py $(if $(LINES),--lines $(LINES),) $(if $(INSTALLATIONS),--installations $(INSTALLATIONS),)

bench-export: $(STAMP)
	@$(PY) bench/export.py $(if $(LINES),--lines $(LINES),) $(if $(INSTALLATIONS),--installations $(INSTALLATIONS),) $(if $(FORMATS),--formats $(FORMATS),)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
