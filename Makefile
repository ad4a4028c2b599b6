# Every target creates .venv with the Python it finds (3.11+) and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev

.PHONY: demo test lint bench docs lock clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "pipeledger needs Python 3.11+"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev,docs,fast,postgres,s3,signing,serve]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/pipeledger demo

# The suite on every core (at most four workers): a test file stays on one worker, so its
# module-scoped fixtures are built once. `$(BIN)/python -m pytest FILE` runs one file serially.
test: $(STAMP)
	$(BIN)/python -m pytest -n auto --maxprocesses 4 --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff format --check src plugins tests bench tools
	$(BIN)/ruff check src plugins tests bench tools
	$(BIN)/mypy

# Hash-pinned locks of the runtime dependencies and build backend (requirements/*.txt) from
# pyproject.toml; resolves (needs the index) only when pyproject changed.
lock: $(STAMP)
	$(BIN)/python tools/lock.py

# Long adversarial runs: 5,000 fuzzed payloads per normalizer (random seed) and 2,000 tampered
# ledgers, without the suite's per-test timeout; the default test run does 50 per normalizer
# and 300 ledgers with fixed seeds.
fuzz: $(STAMP)
	PIPELEDGER_FUZZ_EXAMPLES=5000 PIPELEDGER_TAMPER_TRIALS=2000 $(BIN)/python -m pytest \
		tests/adversarial/test_fuzz_normalizers.py tests/adversarial/test_tamper.py -q -s -p no:randomly \
		--timeout=0

bench: $(STAMP)
	$(BIN)/python -m bench.run

# The documentation site, from docs/ and mkdocs.yml into site/; any warning fails the build.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

clean:
	rm -rf $(VENV) site .pytest_cache .mypy_cache .ruff_cache
