# Osaamispassi: two commands on a fresh machine — `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NPM_STAMP := tests/interop/node_modules/.installed
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install run test demo serve translations clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

translations: $(STAMP)
	$(BIN)/pybabel -q compile -d translations

## install: virtualenv, dependencies, translations, instance secrets and database (no server)
install: $(STAMP) translations
	$(BIN)/badges init

## run: everything `install` does, plus demo data, then serve on http://$(HOST):$(PORT)
run: install
	$(BIN)/badges demo
	$(BIN)/badges serve --host $(HOST) --port $(PORT)

$(NPM_STAMP): tests/interop/package.json tests/interop/package-lock.json
	cd tests/interop && npm ci --no-audit --no-fund --loglevel=error
	touch $@

## test: install test dependencies (Python and the npm interop verifier) and run the whole suite
test: $(STAMP) translations $(NPM_STAMP)
	$(BIN)/pytest -q $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) tests/interop/node_modules .pytest_cache
