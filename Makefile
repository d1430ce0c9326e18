# The two commands in the README, `make run` and `make test`, do all the set-up:
# they build .venv from the pinned requirements.lock on first use (Python 3.12,
# selected by .python-version) and reuse it afterwards.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PIP    := $(BIN)/python -m pip --disable-pip-version-check

.PHONY: setup run test lint bench lock clean

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info; sys.exit(0 if v >= (3, 12) else "coprod_sim needs Python >= 3.12 (Mesa 3.5); $(PYTHON) is %d.%d" % v[:2])'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet -r requirements.lock
	$(PIP) install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/coprod run --scenario careqic --out results/careqic --overwrite

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_model.py

# Re-pin after changing dependencies in pyproject.toml (needs the registry).
lock:
	rm -rf /tmp/coprod-lock && $(PYTHON) -m venv /tmp/coprod-lock
	/tmp/coprod-lock/bin/python -m pip install --quiet --upgrade pip setuptools
	/tmp/coprod-lock/bin/python -m pip install --quiet -e ".[dev,app]"
	/tmp/coprod-lock/bin/python -m pip freeze --all --exclude-editable | grep -v '^pip==' > requirements.lock

clean:
	rm -rf $(VENV) results test-output
