PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The SageMaker SDK 2.x for tests/sdk lives apart: its pins clash with ours.
SDK_VENV := .venv-sdk
SDK_STAMP := $(SDK_VENV)/.installed
# The SDK 3.x for tests/sdk3, apart again: it pins what 2.x pins differently.
SDK3_VENV := .venv-sdk3
SDK3_STAMP := $(SDK3_VENV)/.installed

.PHONY: run test lint bench clean sdk

# README.md too: the installed package metadata (egg-info PKG-INFO) embeds it.
$(STAMP): pyproject.toml README.md
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,postgres,dask]'
	touch $(STAMP)

$(SDK_STAMP): tests/sdk/requirements.txt
	test -d $(SDK_VENV) || $(PYTHON) -m venv $(SDK_VENV)
	$(SDK_VENV)/bin/pip install --quiet --upgrade pip
	$(SDK_VENV)/bin/pip install --quiet -r tests/sdk/requirements.txt
	touch $(SDK_STAMP)

$(SDK3_STAMP): tests/sdk3/requirements.txt
	test -d $(SDK3_VENV) || $(PYTHON) -m venv $(SDK3_VENV)
	$(SDK3_VENV)/bin/pip install --quiet --upgrade pip
	$(SDK3_VENV)/bin/pip install --quiet -r tests/sdk3/requirements.txt
	touch $(SDK3_STAMP)

sdk: $(SDK_STAMP) $(SDK3_STAMP)

run: $(STAMP)
	$(BIN)/watchkeeper serve

# One pytest-xdist worker per core, each running whole modules (docs/architecture.md, "Testing").
PYTEST_WORKERS ?= auto

test: $(STAMP) $(SDK_STAMP) $(SDK3_STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

bench: $(STAMP)
	$(BIN)/python bench/api.py

clean:
	rm -rf $(VENV) $(SDK_VENV) $(SDK3_VENV)
