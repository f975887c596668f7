# newswire: `make demo` runs the whole thing, `make test` checks it.
SHELL := bash
# A failing command on the left of a pipe fails the recipe (mypy, lint-imports).
.SHELLFLAGS := -eo pipefail -c
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

# mypy cannot follow the package-dir mapping (it runs no import hooks), so it checks a copy laid
# out as installed, `newswire/{services,workers,schemas}`, and names the real files in its report.
VIEW := .mypy_cache/installed-layout
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	rm -rf $(VIEW) && mkdir -p $(VIEW)/newswire
	cp newswire/*.py $(VIEW)/newswire/
	cp -r services workers schemas $(VIEW)/newswire/
	cd $(VIEW) && $(CURDIR)/$(BIN)/mypy --config-file $(CURDIR)/pyproject.toml \
	    --cache-dir $(CURDIR)/.mypy_cache/view-cache newswire \
	  | sed -E 's#^newswire/(services|workers|schemas)/#\1/#'
	cd $(VIEW) && $(CURDIR)/$(BIN)/lint-imports --no-cache $(CURDIR)/pyproject.toml | sed -n '/^Contracts$$/,$$p'
	$(BIN)/deptry .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

schemas: $(STAMP)
	$(BIN)/python -m newswire.schemas
	$(BIN)/python -m newswire.services.settingsdoc > docs/settings.md

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
	curl -fsSL https://rules2.clearurls.xyz/data.minify.json -o services/identity/data/clearurls/data.min.json.new
	$(PYTHON) -c "import json,sys; d=json.load(open(sys.argv[1])); assert len(d['providers']) > 100" services/identity/data/clearurls/data.min.json.new
	mv services/identity/data/clearurls/data.min.json.new services/identity/data/clearurls/data.min.json
	@echo "updated services/identity/data/clearurls/data.min.json: run make test, then commit it"
