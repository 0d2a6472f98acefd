# Crisis Cell — `make run` to try it, `make test` to check it.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

# Production-mode settings used by `make check-deploy` and `make test-production` when the
# environment does not provide them (CI's PostgreSQL and Redis on this machine).
PROD_ENV := CRISISCELL_MODE=production \
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/crisiscell} \
	REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/0} \
	SECRET_KEY=$${SECRET_KEY:-ci-only-$$(printf '%064d' 0)-not-a-real-secret} \
	ALLOWED_HOSTS=$${ALLOWED_HOSTS:-localhost,127.0.0.1,testserver}

.PHONY: run stack bench test test-production static check-deploy lint format messages demo install clean

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

# Links in e-mails and chat messages point at the address actually served (SITE_URL).
# The lifespan starts the periodic jobs in this one process (EMBEDDED_SCHEDULER): they
# publish live events through its in-memory channel layer (docs/architecture.md). The
# demo's public crisis pages carry the demo brand's name, written when the demo loads.
DEMO_ENV := SITE_URL=$${SITE_URL:-http://$(HOST):$(PORT)} \
	CRISIS_CENTER_BRAND_NAME="$${CRISIS_CENTER_BRAND_NAME:-Maison Durand}"
run: install
	$(PY) manage.py migrate --noinput -v 0
	$(DEMO_ENV) $(PY) manage.py load_demo
	@echo
	@echo "Crisis Cell is running at http://$(HOST):$(PORT)/  (API docs: /api/docs/, admin: /admin/)"
	$(DEMO_ENV) $(PY) -m uvicorn crisiscell.asgi:application --host $(HOST) --port $(PORT) --lifespan on

# The production stack on this machine: PostgreSQL + Redis (defaults above), uvicorn,
# a Celery worker and Celery beat, started together by honcho from the Procfile.
stack: install
	@createdb -h 127.0.0.1 -U postgres crisiscell 2>/dev/null || true
	$(PROD_ENV) SECURE_SSL_REDIRECT=$${SECURE_SSL_REDIRECT:-false} $(PY) manage.py migrate --noinput -v 0
	$(PROD_ENV) $(PY) manage.py collectstatic --noinput -v 0
	$(PROD_ENV) SECURE_SSL_REDIRECT=$${SECURE_SSL_REDIRECT:-false} PATH="$(CURDIR)/$(VENV)/bin:$$PATH" \
		SITE_URL=$${SITE_URL:-http://$(HOST):$(PORT)} HOST=$(HOST) PORT=$(PORT) \
		$(VENV)/bin/honcho start -f Procfile

# Needs PostgreSQL and Redis on loopback; each script creates its own database (--help).
bench: install
	@$(PY) -c "import aiohttp" 2>/dev/null || $(PY) -m pip install --quiet -e ".[dev,bench]"
	$(PY) bench/fanout.py --clients 200
	$(PY) bench/http_load.py --clients 200 --workers 1 2

# COLLECTSTATIC=0 when the static files are already collected (.ci/run runs `make static`
# once, then both modes at the same time).
COLLECTSTATIC ?= 1
test: install
	@[ "$(COLLECTSTATIC)" = 0 ] || $(PY) manage.py collectstatic --noinput -v 0
	$(PY) -m pytest $(PYTEST_ARGS)

test-production: install
	$(PROD_ENV) SECURE_SSL_REDIRECT=false DB_CONN_MAX_AGE=0 $(MAKE) --no-print-directory test

# The production storage's files (hashed copies, manifest) next to the originals, which the
# embedded mode serves: what both test modes need.
static: install
	$(PROD_ENV) $(PY) manage.py collectstatic --noinput -v 0

check-deploy: install
	$(PROD_ENV) $(PY) manage.py check --deploy --fail-level WARNING

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# French typography between the two (crisiscell/typography.py): a no-break space before
# : and a narrow one before ; ! ? and inside « », in every French msgstr.
messages: install
	$(PY) manage.py makemessages -l fr -e html,txt,py,svg --no-obsolete --add-location=file --ignore=.venv --ignore=staticfiles
	$(PY) -m crisiscell.typography locale/fr/LC_MESSAGES/django.po
	$(PY) manage.py compilemessages --ignore=.venv

demo: install
	$(DEMO_ENV) $(PY) manage.py load_demo

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
