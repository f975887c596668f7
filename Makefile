# newswire: `make demo` runs the whole thing, `make test` checks it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test lint format schemas demo bench soak clean clearurls

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

schemas: $(STAMP)
	$(BIN)/python -m newswire.schemas

demo: $(STAMP)
	$(BIN)/newswire demo

bench: $(STAMP)
	$(BIN)/python -m bench

# The chaos soak (10 minutes of random faults; results in bench/results/soak.md).
soak: $(STAMP)
	$(BIN)/python -m bench.soak

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# Refresh the vendored ClearURLs rules (tracking parameters) from their published copy.
clearurls:
	curl -fsSL https://rules2.clearurls.xyz/data.minify.json -o services/data/clearurls/data.min.json.new
	$(PYTHON) -c "import json,sys; d=json.load(open(sys.argv[1])); assert len(d['providers']) > 100" services/data/clearurls/data.min.json.new
	mv services/data/clearurls/data.min.json.new services/data/clearurls/data.min.json
	@echo "updated services/data/clearurls/data.min.json: run make test, then commit it"
