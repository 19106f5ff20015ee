# laogan — two commands matter: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest bench stress clean

SYSTEM_STAMP := $(VENV)/.system-packages
# Debian packages the tests use: the sqlite3 shell (changeset interop), headless Chromium and CJK fonts
# (the report site opened in a real browser). Installed once, if missing, when apt-get is available.
SYSTEM_PACKAGES := sqlite3 chromium fonts-noto-cjk

$(STAMP): pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

$(SYSTEM_STAMP): $(STAMP)
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null) \
	    || echo "warning: could not install$$missing (tests that need them will say so)"; \
	fi
	touch $(SYSTEM_STAMP)

demo: $(STAMP)
	$(BIN)/laogan demo --dir var

lint: $(STAMP)
	$(BIN)/ruff check schema sync server reports_site tests

typecheck: $(STAMP)
	$(BIN)/mypy schema sync server reports_site

pytest: $(STAMP) $(SYSTEM_STAMP)
	$(BIN)/pytest

test: lint typecheck pytest

bench: $(STAMP) $(SYSTEM_STAMP)
	@command -v wrk >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null) || echo "warning: wrk not installed; the upload load benchmark is skipped"
	$(BIN)/python -m tests.bench

stress: $(STAMP) $(SYSTEM_STAMP)
	LAOGAN_STRESS=1 $(BIN)/pytest -m slow

clean:
	rm -rf $(VENV) var site .mypy_cache .ruff_cache
