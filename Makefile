# Thin entry points. The two that matter: `make workshop` (everything, end to end) and `make test`.
# Each target does its own set-up, so either works first on a fresh clone.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup workshop test lint lab clean

# Chapters that need more than the Python environment (npm packages, Chromium, a converter venv) add
# their own target below and append it here: EXTRA_SETUP += setup-<chapter>
EXTRA_SETUP :=

setup: $(STAMP) $(EXTRA_SETUP)

$(STAMP): requirements.txt requirements-nodeps.txt constraints.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -c constraints.txt
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-nodeps.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	@! $(BIN)/python -m pip show tensorflow >/dev/null 2>&1 || \
	  { echo "error: the full 'tensorflow' wheel got installed next to tensorflow-cpu; see requirements-nodeps.txt"; exit 1; }
	@touch $@

## The workshop's main job: data, model, exports, every notebook executed in order, then a summary.
workshop: setup
	$(BIN)/python -m nowwhat workshop

## The full test suite (what CI runs): unit, contract, notebooks (nbval + papermill), demos, lint.
test: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check .

lab: setup
	$(BIN)/jupyter lab --ip 127.0.0.1 --notebook-dir notebooks

clean:
	rm -rf build
