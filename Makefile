# Quick start: `make run` (set up and serve with demo data), `make test` (the whole suite).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
KEYS := instance/keys.json

.PHONY: run setup deps assets keys db seed serve test test-sqlite test-postgres lint security clean

run: setup seed serve

setup: deps assets keys db

$(BIN)/activate:
	$(PY) -m venv $(VENV)

deps: $(BIN)/activate
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt

assets:
	./scripts/vendor_assets.sh

keys: $(BIN)/activate
	@mkdir -p instance
	@$(BIN)/python -m clinician_app.core.keyfile init $(KEYS)

db:
	$(FLASK) init-db

seed:
	$(FLASK) seed-demo

serve:
	@echo "Serving on http://127.0.0.1:5000 (Ctrl-C to stop). Sign in with a demo user above."
	$(BIN)/gunicorn --config gunicorn.conf.py --bind 127.0.0.1:5000 --workers 2 wsgi:app

# The whole suite: SQLite always; PostgreSQL too when TEST_DATABASE_URL is set.
test: deps assets test-sqlite test-postgres

test-sqlite:
	CLINICIAN_TEST_BACKEND=sqlite $(BIN)/pytest

test-postgres:
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		CLINICIAN_TEST_BACKEND=postgresql $(BIN)/pytest; \
	else echo "TEST_DATABASE_URL not set: PostgreSQL pass skipped"; fi

lint:
	$(BIN)/ruff check .

security:
	$(BIN)/bandit -q -r clinician_app -ll

clean:
	rm -rf $(VENV) node_modules clinician_app/static/vendor test-artifacts
