# laogan — two commands matter: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest bench stress clean

$(STAMP): pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	@command -v sqlite3 >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq sqlite3) || echo "warning: sqlite3 shell not installed; interop test will be skipped"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/laogan demo --dir var

lint: $(STAMP)
	$(BIN)/ruff check schema sync server reports_site tests

typecheck: $(STAMP)
	$(BIN)/mypy schema sync server

pytest: $(STAMP)
	$(BIN)/pytest

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python -m tests.bench

stress: $(STAMP)
	LAOGAN_STRESS=1 $(BIN)/pytest -m slow

clean:
	rm -rf $(VENV) var site .mypy_cache .ruff_cache
