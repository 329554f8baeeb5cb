PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# `make run` needs only the package; `make test` adds the test tools and the Zoom SDK extra.
# Both install the Python client (clients/python, distribution obfbroker-client) beside the server,
# editable: the server runs without it, but the tests and `obfbroker.client` use it.
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test lint clean fuzz bench image

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml clients/python/pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ./clients/python -e .
	touch $(RUN_STAMP)

$(TEST_STAMP): pyproject.toml clients/python/pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ./clients/python -e '.[dev,zoom-sdk]'
	touch $(TEST_STAMP) $(RUN_STAMP)

run: $(RUN_STAMP)
	$(BIN)/obfbroker dev

test: $(TEST_STAMP)
	$(BIN)/ruff check src tests bench examples clients
	$(BIN)/python -m pytest -q -n 4

# A longer schemathesis run than make test's: about 2,700 cases instead of 1,300 (not part of make test).
fuzz: $(TEST_STAMP)
	OBFBROKER_FUZZ_EXAMPLES=$${OBFBROKER_FUZZ_EXAMPLES:-100} $(BIN)/python -m pytest -q -o timeout=1800 \
		tests/core/test_openapi_conformance.py

# The benchmarks (bench/run.py, docs/benchmarks.md): processes of their own on free ports; SQLite,
# and PostgreSQL when OBFBROKER_BENCH_POSTGRES_URL or OBFBROKER_TEST_POSTGRES_URL is set. Prints
# tables and writes bench/results/<time>.json. Never part of make test.
bench: $(TEST_STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# The container image, built with podman (obfbroker:local) and smoke-tested: serve on its default
# and on another port, worker, zoomsim, non-root, the health checks, and compose.yaml under
# podman-compose (deploy/image-smoke; docs/deployment.md). As root on Debian: it installs podman
# and the rest with apt-get when missing. Not part of make test; .ci/run runs it.
image:
	deploy/image-smoke

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests bench examples clients

clean:
	rm -rf $(VENV) var .pytest_cache
