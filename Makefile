# Two commands a new user needs: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP_RUN  := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test
STAMP_CHECK := $(VENV)/.installed-check

.PHONY: run test check venv clean snapshots bench chaos

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (or: make PYTHON=python3 ...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP_RUN): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e .
	@touch $@

$(STAMP_TEST): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[test]'
	@touch $@ $(STAMP_RUN)

$(STAMP_CHECK): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[test,check]'
	@touch $@ $(STAMP_TEST) $(STAMP_RUN)

venv: $(STAMP_RUN)

run: $(STAMP_RUN)
	$(VENV)/bin/teledeck $(ARGS)

test: $(STAMP_TEST)
	@bash tests/interop/prism/install.sh
	$(PY) -m pytest -n 2 -q $(PYTEST_ARGS)

# The quality gate: lint, format and types (configured in pyproject.toml).
check: $(STAMP_CHECK)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

snapshots: $(STAMP_TEST)
	$(PY) -m pytest -q tests/snapshots --snapshot-update
	$(PY) tests/snapshots/copy_screenshots.py

# The test extra: list_speed.py compares teledeck with the official telnyx SDK.
bench: $(STAMP_TEST)
	$(PY) benchmarks/run_all.py

# teledeck's clients against every emulator under random faults; ends with one line
# "chaos: N requests, F faults, D duplicates, L lost, C crashes" (exit 1 unless D, L, C are 0).
chaos: $(STAMP_TEST)
	$(PY) benchmarks/chaos.py $(ARGS)

clean:
	rm -rf $(VENV) build *.egg-info
