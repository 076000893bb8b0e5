# Every target bootstraps the virtual environment itself: a fresh clone needs only `make demo`
# or `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SRC    := src tests bench tools

.PHONY: venv test lint demo bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

venv: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check $(SRC)
	$(BIN)/ruff format --check $(SRC)
	$(BIN)/mypy
	$(BIN)/lint-imports

# pytest exits 5 when it collects no test; make treats that as the failure it is.
test: lint
	$(BIN)/pytest

demo: $(STAMP)
	$(BIN)/skyparley demo

bench: $(STAMP)
	$(BIN)/python bench/detect.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist
