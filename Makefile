# Two commands: `make demo` and `make test`. Each bootstraps .venv on its own.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export AWS_DEFAULT_REGION ?= us-east-1
# SAM CLI would send usage telemetry to AWS; nothing here talks to the internet.
export SAM_CLI_TELEMETRY = 0

.PHONY: demo test lint typecheck unit venv clean bench report-check

$(STAMP): pyproject.toml layers/core/requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (set PYTHON=...)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/sentinel demo --report build/report.html

# The demo on the local cloud, its HTML report, and a check in headless Chromium (apt-get install chromium):
# every chart drawn, no console errors, a screenshot next to the report.
report-check: $(STAMP)
	$(BIN)/sentinel report --demo --output build/report.html
	$(BIN)/python -m sentinel_dev.report.browser build/report.html --screenshot build/report.png --min-drawn 10

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache
