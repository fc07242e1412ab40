# Osaamispassi: two commands on a fresh machine — `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NPM_STAMP := tests/interop/node_modules/.installed
E2E_STAMP := tests/e2e/node_modules/.installed
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install run test demo serve translations clean bench audit

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

$(E2E_STAMP): tests/e2e/package.json tests/e2e/package-lock.json
	cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error
	touch $@

## test: install test dependencies (Python, the npm interop verifier, axe-core) and run the whole suite
test: $(STAMP) translations $(NPM_STAMP) $(E2E_STAMP)
	$(BIN)/pytest -q $(PYTEST_ARGS)

## bench: the benchmark suite (bench/run.py): a table and bench-results.json; QUICK=1 for a run under two minutes
bench: $(STAMP) $(if $(shell command -v npm),$(NPM_STAMP))
	$(BIN)/python bench/run.py $(if $(QUICK),--quick) $(BENCH_ARGS)

## audit: bandit on badges/ (offline, also run by the tests) and pip-audit of the installed packages
## against the PyPI/OSV vulnerability database (needs the network, so it is not part of `make test`)
audit: $(STAMP)
	$(BIN)/bandit -c pyproject.toml -r badges -q
	$(BIN)/pip-audit --skip-editable

clean:
	rm -rf $(VENV) tests/interop/node_modules tests/e2e/node_modules .pytest_cache
