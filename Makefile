# Two commands: `make demo` and `make test`. Each bootstraps .venv on its own.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export AWS_DEFAULT_REGION ?= us-east-1
# SAM CLI would send usage telemetry to AWS; nothing here talks to the internet.
export SAM_CLI_TELEMETRY = 0

.PHONY: demo test lint typecheck unit venv clean bench report-check checkov lock layer-report layer-measure

# ---------------------------------------------------------------- one lock for every environment
# uv.lock is the one resolution (all extras, every platform, hashes of every wheel). `make lock` re-runs
# it after pyproject.toml's dependency lists change (e.g. after merging a branch that added a dev
# dependency) and exports its three views, all committed:
#   requirements.lock              everything, for the dev venv (`make venv`: pip --require-hashes)
#   layers/core/requirements.txt   the runtime subset, for the Lambda layer (layers/core/Makefile),
#                                  without the AWS SDK that the Lambda runtime provides
#   requirements-demo.lock         runtime + the `local` extra (moto server, SAM translator, requests)
#                                  without what the demo never imports (pyarrow, matplotlib, cfn-lint),
#                                  for `make demo`'s own .venv-demo: no test, lint or SAM CLI tooling
# tests/build/test_lock.py fails when the venv, the lock and the layer's pins drift apart.
LAMBDA_RUNTIME_SDK := boto3 botocore s3transfer python-dateutil six urllib3
UV_EXPORT = $(BIN)/uv export --frozen --no-emit-project --format requirements-txt --quiet
DEMO_PRUNE := pyarrow matplotlib cfn-lint

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (set PYTHON=...)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

venv: $(STAMP)

lock: $(STAMP)
	$(BIN)/uv lock
	$(UV_EXPORT) --all-extras -o requirements.lock
	$(UV_EXPORT) --no-dev $(foreach p,$(LAMBDA_RUNTIME_SDK),--no-emit-package $(p)) -o layers/core/requirements.txt
	$(UV_EXPORT) --extra local $(foreach p,$(DEMO_PRUNE),--prune $(p)) -o requirements-demo.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	@touch $(STAMP)

# ---------------------------------------------------------------- the layer, built and measured
# `sam build` of template.yaml (arm64, what deploys) and of an x86_64 copy (what runs here), then the
# layer's size and every handler's cold import in a fresh python3.12 with only the built layer and the
# AWS SDK (the lock's boto3, standing in for the one the Lambda runtime provides) on sys.path.
SAM_PYTHONS ?= 3.11.7:3.12.1
SAM = PYENV_VERSION=$(SAM_PYTHONS) nice -n 10 $(BIN)/sam
X86 := .aws-sam-x86
EMPTY :=
SDK_ALTERNATION := $(subst $(EMPTY) $(EMPTY),|,$(LAMBDA_RUNTIME_SDK))

# layer-report exits non-zero when a target (layer size, cold-import ratio, numpy in router/governance) is
# missed, with one "TARGET MISSED:" line each; LAYER_REPORT_ONLY=1 make layer-report only prints. Not in CI.
layer-report: $(STAMP)
	$(SAM) build
	@mkdir -p $(X86)
	sed 's/arm64/x86_64/g' template.yaml > .template-x86_64.yaml
	LAYER_ARCH=x86_64 $(SAM) build --template-file .template-x86_64.yaml --build-dir $(X86)/build
	awk '/^[a-z0-9]/{keep = ($$1 ~ /^($(SDK_ALTERNATION))==/)} keep' requirements.lock > $(X86)/runtime-sdk.txt
	rm -rf $(X86)/runtime-sdk
	PYENV_VERSION=$(SAM_PYTHONS) python3.12 -m pip install --quiet --disable-pip-version-check --no-deps \
		--require-hashes --only-binary=:all: --target $(X86)/runtime-sdk -r $(X86)/runtime-sdk.txt
	PYENV_VERSION=$(SAM_PYTHONS) python3.12 -m compileall -q -j 0 $(X86)/runtime-sdk
	$(MAKE) --no-print-directory layer-measure

# The measurement alone, on the last layer-report's builds (to repeat it: medians of several runs).
layer-measure: $(STAMP)
	PYENV_VERSION=$(SAM_PYTHONS) $(BIN)/python bench/cold_start.py --python python3.12 \
		--build $(X86)/build --sdk $(X86)/runtime-sdk --arm64-build .aws-sam/build --invoke

# The demo in its own venv from requirements-demo.lock (hashes; ~60 packages instead of ~140): a fresh
# clone runs it without installing the test and lint toolchain. SCENARIO=rollback etc. for one loop.
DEMO_VENV := .venv-demo
DEMO_STAMP := $(DEMO_VENV)/.installed
SCENARIO ?= full
$(DEMO_STAMP): requirements-demo.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (set PYTHON=...)")'
	@test -x $(DEMO_VENV)/bin/python || $(PYTHON) -m venv $(DEMO_VENV)
	$(DEMO_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-demo.lock
	$(DEMO_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

demo: $(DEMO_STAMP)
	$(DEMO_VENV)/bin/sentinel demo --scenario $(SCENARIO) --report build/report.html

# The demo on the local cloud, its HTML report, and a check in headless Chromium (apt-get install chromium):
# every chart drawn, no console errors, a screenshot next to the report.
report-check: $(STAMP)
	$(BIN)/sentinel report --demo --output build/report.html
	$(BIN)/python -m sentinel_dev.report.browser build/report.html --screenshot build/report.png --min-drawn 19

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

# Two pytest-xdist workers, one test file each at a time (--dist loadfile): each worker is its own process
# with its own moto server, port and local cloud, and a module-scoped cloud stays on one worker.
PYTEST_WORKERS ?= 2
test: lint
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadfile

# Security scan of template.yaml, in its own venv (never a dependency of make test). Every remaining
# finding is skipped in the resource's Metadata with a one-line reason (tests/template pins that).
CHECKOV_VENV := .venv-checkov
CHECKOV_VERSION := 3.3.30
checkov:
	@test -x $(CHECKOV_VENV)/bin/checkov || { $(PYTHON) -m venv $(CHECKOV_VENV) && \
		$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check 'checkov==$(CHECKOV_VERSION)'; }
	$(CHECKOV_VENV)/bin/checkov --framework cloudformation --file template.yaml --compact --quiet

bench: $(STAMP)
	@for b in bench/[!_]*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) $(DEMO_VENV) $(CHECKOV_VENV) .aws-sam .aws-sam-x86 .template-x86_64.yaml .pytest_cache .mypy_cache .ruff_cache
