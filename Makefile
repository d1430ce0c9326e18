# The two commands in the README, `make run` and `make test`, do all the set-up:
# they build .venv from the pinned requirements.lock on first use (Python 3.12,
# selected by .python-version) and reuse it afterwards.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PIP    := $(BIN)/python -m pip --disable-pip-version-check
# The app's front-end files, fetched from npm into Solara's CDN cache in .venv (offline use).
ASSETS := $(VENV)/.solara-assets
APP_PORT ?= 8765
# The app never reaches the internet: no telemetry, and Solara's CDN set to a closed
# loopback port, so a missing front-end file fails instead of being fetched. No "runs on
# Solara" banner over the charts, and the project's name in the browser tab.
APP_ENV := SOLARA_TELEMETRY_MIXPANEL_ENABLE=false SOLARA_ASSETS_CDN=http://127.0.0.1:9/npm/ \
	SOLARA_THEME_SHOW_BANNER=false SOLARA_THEME_TITLE=coprod_sim

.PHONY: setup run test test-fast lint bench lock clean assets app bench-app validate docs docs-serve

setup: $(STAMP) $(ASSETS)

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info; sys.exit(0 if v >= (3, 12) else "coprod_sim needs Python >= 3.12 (Mesa 3.5); $(PYTHON) is %d.%d" % v[:2])'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet -r requirements.lock
	$(PIP) install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

$(ASSETS): $(STAMP) scripts/solara_assets.py
	$(BIN)/python scripts/solara_assets.py
	@touch $(ASSETS)

assets: $(ASSETS)

run: $(STAMP)
	$(BIN)/coprod run --scenario careqic --out results/careqic --overwrite

# Both cores, one test file to a worker (pytest-xdist): a file's module fixtures (the quick
# validation study, the docs site, the app server) are built once, and its tests run in order.
TEST_WORKERS ?= auto
# The tests marked `alone` time the app under a load they make; they run afterwards, one
# at a time, so no other test adds to it.
test: $(STAMP) $(ASSETS)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --maxprocesses 2 --dist loadfile -m "not alone"
	$(BIN)/python -m pytest -m alone

# The inner loop, about a minute and a half: no slow, browser, Dask or validation tests (markers in
# pyproject.toml, given in tests/conftest.py), so no front-end files needed either.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not browser and not dask and not validation" -q

# The validation study: specs shipped in coprod_sim/validation/specs/, data in
# results/validation, report in docs/validation.md (its default in the source tree).
validate: $(STAMP)
	$(BIN)/coprod validate

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_model.py

# The scenario explorer on http://127.0.0.1:$(APP_PORT) (Ctrl-C stops it).
app: $(STAMP) $(ASSETS)
	$(APP_ENV) $(BIN)/solara run app/app.py --host 127.0.0.1 --port $(APP_PORT) --no-open --production

bench-app: $(STAMP) $(ASSETS)
	$(APP_ENV) $(BIN)/python benchmarks/bench_app.py

# The documentation site (mkdocs.yml) in site/: offline, and --strict makes any warning an
# error. docs-serve rebuilds it on each change, on http://127.0.0.1:$(DOCS_PORT) only.
DOCS_PORT ?= 8000
DOCS_ENV := NO_MKDOCS_2_WARNING=1

docs: $(STAMP)
	$(DOCS_ENV) $(BIN)/mkdocs build --strict

docs-serve: $(STAMP)
	$(DOCS_ENV) $(BIN)/mkdocs serve --strict --dev-addr 127.0.0.1:$(DOCS_PORT)

# Re-pin after changing dependencies in pyproject.toml (needs the registry).
lock:
	rm -rf /tmp/coprod-lock && $(PYTHON) -m venv /tmp/coprod-lock
	/tmp/coprod-lock/bin/python -m pip install --quiet --upgrade pip setuptools
	/tmp/coprod-lock/bin/python -m pip install --quiet -e ".[dev,app,docs]"
	/tmp/coprod-lock/bin/python -m pip freeze --all --exclude-editable | grep -v '^pip==' > requirements.lock

clean:
	rm -rf $(VENV) results test-output
