# driftctl — the two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CHECKOV_VENV ?= .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

.PHONY: install demo test test-fast lint bench clean sandbox-down

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# checkov lives in its own venv: its bc-python-hcl2 overwrites python-hcl2's `hcl2`; we run it out of process.
$(CHECKOV_STAMP):
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/pip install --quiet "checkov>=3.2,<4"
	touch $(CHECKOV_STAMP)

install: $(STAMP) $(CHECKOV_STAMP)

demo: $(STAMP) $(CHECKOV_STAMP)
	$(BIN)/python -m driftctl.demo

# Two workers, a test file each at a time: e2e files wait on Terraform, moto and checkov processes, and
# each module keeps its own sandbox (14 min serial → 8 min on 2 cores).
PYTEST_WORKERS ?= 2

test: $(STAMP) $(CHECKOV_STAMP)
	$(BIN)/ruff check driftctl tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile

test-fast: $(STAMP)
	$(BIN)/pytest -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check driftctl tests bench
	$(BIN)/ruff format --check driftctl tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python bench/sandbox_bench.py
	$(BIN)/python bench/detect_bench.py --sandbox
	$(BIN)/python bench/peers_bench.py
	$(BIN)/python bench/scale_bench.py
	$(BIN)/python bench/assess_bench.py
	$(BIN)/python bench/heal_bench.py
	$(BIN)/python bench/serve_bench.py

sandbox-down: $(STAMP)
	$(BIN)/driftctl sandbox down

clean:
	-$(BIN)/driftctl sandbox down 2>/dev/null
	rm -rf $(VENV) $(CHECKOV_VENV) .driftctl .pytest_cache .mypy_cache .ruff_cache
