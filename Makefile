# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_DATA ?= demo-data
HEADLESS ?=

.PHONY: install demo test lint bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,import-test]'
	touch $(STAMP)

install: $(STAMP)

# Trains ~20 small models into $(DEMO_DATA), starts its server, opens the quickstart notebook.
# HEADLESS=1 executes the notebook instead of opening JupyterLab, and exits.
demo: $(STAMP)
	$(PY) -m lablens demo --data $(DEMO_DATA) $(if $(HEADLESS),--headless,)

test: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/pytest -q -p no:cacheprovider tests

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

bench: $(STAMP)
	@for f in benchmarks/[a-z]*.py; do $(PY) -m benchmarks.$$(basename $$f .py) || exit 1; done

clean:
	rm -rf $(VENV) $(DEMO_DATA) .pytest_cache
