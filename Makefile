# The two commands of the README: `make demo` and `make test`. Both set up .venv/ first, from
# uv.lock (scripts/setup.sh). `make setup-core` installs the core and its tests only; later
# `make test` runs keep that choice until `make setup` (docs/install.md).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.setup-stamp
MODE := $(VENV)/.setup-mode

.PHONY: setup setup-core lock demo test lint bench clean

# re-run when the dependencies or the lock change, in the mode chosen last (full or --core)
$(STAMP): pyproject.toml uv.lock scripts/setup.sh
	bash scripts/setup.sh $$(cat $(MODE) 2>/dev/null || true)
	touch $(STAMP)

# the core, the napari plugin with PyQt6, the test and lint tools (and, on Debian as root, the
# system packages the GUI needs without a screen)
setup:
	bash scripts/setup.sh
	rm -f $(MODE)
	touch $(STAMP)

# the core and its test tools only: no napari, no Qt, no system packages (GUI tests skipped)
setup-core:
	bash scripts/setup.sh --core
	echo --core > $(MODE)
	touch $(STAMP)

# after changing a dependency in pyproject.toml: re-resolve uv.lock, then commit both
lock:
	uv lock

demo: $(STAMP)
	$(PY) -m napari_response_tool.demo --out out/demo

test: $(STAMP)
	$(VENV)/bin/lint-imports
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check response_tool plugins tests benchmarks fixtures
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf out .pytest_cache
