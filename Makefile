# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# `make run` installs the bot's runtime dependencies only; everything else adds the dev
# extra (pytest, ruff, mypy, aiohttp for the Bot API emulator, ...).
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
EMULATOR_PORT ?= 8081
# The packages mypy checks (in `make test`, so CI keeps them type-clean).
TYPED := bot handlers sop db storage

.PHONY: run test lint format bench emulator clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(RUN_STAMP)

run: $(RUN_STAMP)
	$(BIN)/ppidbot run

test: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy $(TYPED)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy $(TYPED)

format: $(DEV_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# A quick run of every benchmark (BENCHMARKS.md has the full runs and what they measure).
bench: $(DEV_STAMP)
	$(BIN)/python bench/storage_stream.py --size-mb 50
	$(BIN)/python -m bench.workflow --quick
	$(BIN)/python -m bench.interaction --quick
	$(BIN)/python -m bench.scale --quick

# The Bot API emulator with a console to type as Telegram users (README: Development).
emulator: $(DEV_STAMP)
	$(BIN)/python -m tests.emulator --port $(EMULATOR_PORT)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
