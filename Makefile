# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Empty: the demo trains into your default lablens (LABLENS_HOME's local server), where a new
# lablens.Api() finds it. DEMO_DATA=dir: a server of its own over dir instead.
DEMO_DATA ?=
HEADLESS ?=
STATIC := src/lablens/static
JS_DEPS := js/node_modules/.package-lock.json
JS_BUNDLES := $(STATIC)/run_table.js $(STATIC)/workspace_tree.js $(STATIC)/action_log.js \
	$(STATIC)/artifact_browser.js $(STATIC)/media_panel.js $(STATIC)/panel_grid.js
CHROMIUM := /usr/bin/chromium
# Debian's PostgreSQL server, whose initdb/pg_ctl tests/pg.py runs for the PostgreSQL store's
# tests: the initdb of whatever major version is there (Debian 12 has 15, 13 has 17), or a
# path that names none yet, so that make installs the package.
PG_INITDB := $(firstword $(wildcard /usr/lib/postgresql/*/bin/initdb) /usr/lib/postgresql/any/bin/initdb)
# The real wandb and swanlab clients, each in its own venv (git-ignored), pinned in tests/compat.
COMPAT := .compat
COMPAT_VENVS := $(COMPAT)/wandb/.installed $(COMPAT)/swanlab/.installed $(COMPAT)/hf/.installed
# The docs site; the variable quiets mkdocs-material's notice about its successor.
MKDOCS := NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

.PHONY: install js demo test docs lint bench bench-peers clean compat compat-newest

# The JS is built here (below), so the editable install skips the build hook's own build.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	LABLENS_SKIP_JS_BUILD=1 $(PY) -m pip install --quiet -e '.[dev,import-test,docs]'
	touch $(STAMP)

install: $(STAMP)

# Node and npm come from Debian when missing (a fresh machine); the widgets' packages from
# js/package-lock.json.
$(JS_DEPS): js/package.json js/package-lock.json
	command -v npm >/dev/null || (apt-get update && apt-get install -y nodejs npm)
	cd js && npm ci --no-audit --no-fund
	touch $(JS_DEPS)

$(JS_BUNDLES) &: $(JS_DEPS) $(shell find js/src -name '*.ts') js/build.mjs
	cd js && npm run build

js: $(JS_BUNDLES)

# The browser tests drive Debian's chromium; Playwright never downloads a browser here.
$(CHROMIUM):
	apt-get update && apt-get install -y chromium

# The tests start their own cluster (tests/pg.py); the package is only their binaries. The
# check before apt-get keeps a fresh install from repeating on the next run.
$(PG_INITDB):
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || (apt-get update && apt-get install -y postgresql)

# Trains ~20 small models into the project digits-mlp of your local server (started in the
# background and left running; `lablens server stop` stops it), then starts JupyterLab on the
# quickstart notebook and prints its URL last. HEADLESS=1 executes the notebook instead, and
# exits saying where the runs are.
demo: $(STAMP) $(JS_BUNDLES)
	$(PY) -m lablens demo $(if $(DEMO_DATA),--data $(DEMO_DATA),) $(if $(HEADLESS),--headless,)

$(COMPAT)/%/.installed: tests/compat/requirements-%.txt
	test -x $(COMPAT)/$*/bin/python || $(PYTHON) -m venv $(COMPAT)/$*
	$(COMPAT)/$*/bin/python -m pip install --quiet -r $<
	touch $@

compat: $(COMPAT_VENVS)

# The same compatibility tests against the newest wandb and swanlab on PyPI, in their own venvs.
compat-newest: $(STAMP)
	for c in wandb swanlab; do \
	  test -x $(COMPAT)/newest/$$c/bin/python || $(PYTHON) -m venv $(COMPAT)/newest/$$c; \
	  sed 's/[=<>~!].*//' tests/compat/requirements-$$c.txt > $(COMPAT)/newest/$$c/requirements.txt; \
	  $(COMPAT)/newest/$$c/bin/python -m pip install --quiet --upgrade \
	    -r $(COMPAT)/newest/$$c/requirements.txt || exit 1; \
	done
	LABLENS_COMPAT_DIR=$(abspath $(COMPAT)/newest) $(VENV)/bin/pytest -q -p no:cacheprovider \
		tests/compat --ignore=tests/compat/test_hf_trainer.py

# Every integration test of the session server runs a second time with that server on
# PostgreSQL (LABLENS_TEST_STORE=postgres; the others would only repeat the first pass).
# Two pytest workers (pytest-xdist), each with its own session server and PostgreSQL: most
# tests wait on a server or a browser, so two share the 2 cores well (13.5 min instead of 19).
PYTEST_WORKERS ?= -n 2
test: $(STAMP) $(JS_BUNDLES) $(CHROMIUM) $(PG_INITDB) $(COMPAT_VENVS)
	$(VENV)/bin/ruff check src tests benchmarks
	cd js && npx tsc --noEmit -p . && npx vitest run
	$(VENV)/bin/pytest -q -p no:cacheprovider $(PYTEST_WORKERS) --durations=25 tests
	LABLENS_TEST_STORE=postgres $(VENV)/bin/pytest -q -p no:cacheprovider $(PYTEST_WORKERS) tests/integration
	$(MKDOCS)

# The docs site (mkdocs.yml) into site/; after the browser tests in `make test`, so its gallery
# has their screenshots (test-output/browser/).
docs: $(STAMP)
	$(MKDOCS)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

# history_big_store (20 writers logging 20M points, then reads) took 9 minutes on a loaded
# 2-core machine: it runs on its own, `$(PY) -m benchmarks.history_big_store`.
BENCH_ALONE := benchmarks/history_big_store.py
bench: $(STAMP) $(JS_BUNDLES) $(CHROMIUM) $(PG_INITDB)
	@for f in $(filter-out $(BENCH_ALONE),$(wildcard benchmarks/[a-z]*.py)); do \
	  $(PY) -m benchmarks.$$(basename $$f .py) || exit 1; done

# The same workloads through a real MLflow server and a real lablens server (benchmarks/peers):
# MLflow in its own venv (git-ignored), pinned in benchmarks/peers/requirements-mlflow.txt.
PEERS := .peers
$(PEERS)/mlflow/.installed: benchmarks/peers/requirements-mlflow.txt
	test -x $(PEERS)/mlflow/bin/python || $(PYTHON) -m venv $(PEERS)/mlflow
	$(PEERS)/mlflow/bin/python -m pip install --quiet -r $<
	touch $@

bench-peers: $(STAMP) $(PEERS)/mlflow/.installed
	$(PY) -m benchmarks.peers --mlflow-python $(PEERS)/mlflow/bin/python

clean:
	rm -rf $(VENV) $(COMPAT) $(PEERS) $(DEMO_DATA) .pytest_cache js/node_modules $(STATIC) test-output site
