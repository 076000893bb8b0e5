# Every target bootstraps the virtual environment itself: a fresh clone needs only `make demo`
# or `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RUN    := $(VENV)/.installed-run
DEV    := $(VENV)/.installed-dev
SRC    := src tests bench tools
PIP    := $(BIN)/pip install --quiet --disable-pip-version-check

.PHONY: venv test lint demo bench clean chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The product alone: what `make demo` needs.
$(RUN): pyproject.toml | $(BIN)/python
	$(PIP) -e .
	@touch $@

# Tests, linters and the benchmark peers. BlueSky 1.1.1 is installed without its own
# dependencies (GUI, networking, navigation data): detection needs only scipy and matplotlib,
# which the `peers` extra brings.
$(DEV): pyproject.toml | $(BIN)/python
	$(PIP) -e '.[dev,peers]'
	$(PIP) --no-deps bluesky-simulator==1.1.1
	@touch $(RUN) $@

venv: $(DEV)

lint: $(DEV)
	$(BIN)/ruff check $(SRC)
	$(BIN)/ruff format --check $(SRC)
	$(BIN)/mypy
	$(BIN)/lint-imports

# Debian's Chromium drives the console's browser tests (tests/web, marked `browser`); CI runs
# as root, so a fresh machine gets it here, and only when it is missing.
chromium:
	@test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)

# pytest exits 5 when it collects no test; make treats that as the failure it is.
test: lint chromium
	$(BIN)/pytest

demo: $(RUN)
	$(BIN)/skyparley demo

# All benchmarks, each printing its tables (about 25 minutes the first time: the ledger bench
# builds a 1M-entry log and the replay bench a 10M-row file into .cache/).
# One alone: `.venv/bin/python bench/<name>.py --help`.
bench: $(DEV)
	$(BIN)/python bench/detect.py
	$(BIN)/python bench/strategic.py
	$(BIN)/python bench/ledger.py
	$(BIN)/python bench/service.py
	$(BIN)/python bench/live.py
	$(BIN)/python bench/replay.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist
