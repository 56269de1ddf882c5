# Two commands do all the set-up on a fresh machine: `make serve` and `make test`.
# Both create .venv when missing and sync it from the one lock file (uv.lock).
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.synced-stamp
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))

.PHONY: serve test lint typecheck bench bench-web bench-scale system-deps clean mutate i18n-extract i18n-update i18n-compile image secrets dev-cert k8s-render topology topology-up

$(STAMP): uv.lock pyproject.toml schemas/pyproject.toml provenance/pyproject.toml server/pyproject.toml client/pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	@test -x $(VENV)/bin/uv || $(VENV)/bin/python -m pip install --isolated --quiet --index-url https://pypi.org/simple uv
	$(VENV)/bin/uv sync --frozen --all-packages --quiet
	@touch $@

serve: $(STAMP)
	$(VENV)/bin/pysetl-hub-server serve

system-deps:
	@sh scripts/system-deps.sh

# Test files run on every core (pytest-xdist), each file's tests on one worker: the module-scoped
# live servers stay shared. TEST_WORKERS=0 runs them in this process.
TEST_WORKERS ?= auto
test: $(STAMP) system-deps
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadfile

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	@sh scripts/system-deps.sh bench
	$(PY) bench/index_bench.py

bench-web: $(STAMP)
	@sh scripts/system-deps.sh bench
	$(PY) bench/web_bench.py

# Issue 14 section 5: 1k, 10k and 100k components (SIZES=1000,10000 for the quick mode), search
# on PostgreSQL at 10k, 1-3 replicas behind nginx; prints the table and PASS/FAIL per goal.
SIZES ?= 1000,10000,100000
bench-scale: $(STAMP)
	@sh scripts/system-deps.sh bench
	SIZES=$(SIZES) $(PY) bench/scale_bench.py --postgres --replicas 1,2,3

clean:
	rm -rf $(VENV) hub-data

mutate: $(STAMP)
	@sh scripts/mutate.sh

# Translations (docs/dev/translations.md): extract the msgids, merge them into each language's
# catalog, compile the catalogs the server and the CLI load.
i18n-extract: $(STAMP)
	@sh scripts/i18n.sh extract

i18n-update: $(STAMP)
	@sh scripts/i18n.sh update

i18n-compile: $(STAMP)
	@sh scripts/i18n.sh compile

# The container image (Dockerfile), where a Docker engine runs; CI checks it statically.
image:
	@command -v docker >/dev/null 2>&1 || { echo "make image: no docker here (tests/deploy checks the Dockerfile statically)" >&2; exit 1; }
	docker build -t pysetl-hub:latest .

# Deployment (docs/operations/deploy.md): random secrets for the compose files into the
# gitignored deploy/secrets/generated/, a self-signed certificate for compose.dev.yml, and the
# Kubernetes overlays rendered offline (OVERLAY=production or dev; dev's Secrets are generated
# first into its gitignored secrets/ directory).
secrets:
	@sh deploy/secrets/generate.sh

dev-cert:
	@sh deploy/secrets/generate.sh --dev-cert

OVERLAY ?= production
k8s-render:
	@if [ "$(OVERLAY)" = dev ]; then sh deploy/secrets/generate.sh --dev-cert deploy/kubernetes/overlays/dev/secrets; fi
	@kubectl kustomize deploy/kubernetes/overlays/$(OVERLAY)

# The production topology as processes on this machine (docs/operations/topology.md):
# PostgreSQL, moto's S3, Redis, three replicas and nginx; `topology` proves section 2 of
# issue 14 and stops everything, `topology-up` starts it and leaves it up until Ctrl-C.
topology: $(STAMP) system-deps
	$(VENV)/bin/pytest tests/topology

topology-up: $(STAMP) system-deps
	$(PY) scripts/topology.py
