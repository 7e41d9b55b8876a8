# spikeplast developer entry points.  A fresh clone needs only `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.spikeplast-installed
JOBS   ?= 2

.PHONY: demo test test-all bench lint format clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/spikeplast protocol sjostrom --rule pfister2006-visual-aa-full --out results/demo

test: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" -n $(JOBS) --dist loadgroup --durations=25

test-all: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) --dist loadgroup

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

clean:
	rm -rf results .pytest_cache .ruff_cache build *.egg-info
