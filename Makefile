PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# `make run` needs only the package; `make test` adds the test tools and the Zoom SDK extra.
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUN_STAMP)

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,zoom-sdk]'
	touch $(TEST_STAMP) $(RUN_STAMP)

run: $(RUN_STAMP)
	$(BIN)/obfbroker dev

test: $(TEST_STAMP)
	$(BIN)/ruff check src tests bench examples
	$(BIN)/python -m pytest -q -n 4

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests bench examples

clean:
	rm -rf $(VENV) var .pytest_cache
