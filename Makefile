# Breakwater: two commands from a fresh clone, `make demo` and `make test`.
# Everything is installed into the clone: Python into .venv/, anvil into node_modules/.

SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
ANVIL_PORT ?= 8545
RPC_URL ?= http://127.0.0.1:$(ANVIL_PORT)
# ape-vyper compiles offline only when the venv's vyper is first on PATH.
export PATH := $(BIN):$(CURDIR)/node_modules/.bin:$(PATH)
export APE_FOUNDRY_HOST ?= $(RPC_URL)

INSTALLED := $(VENV)/.installed
ANVIL := $(VENV)/bin/anvil
ANVIL_STAMP := node_modules/.installed
CHROMIUM := /usr/bin/chromium
PG_STAMP := $(VENV)/.postgresql
PG_SERVER_GLOB := /usr/lib/postgresql/*/bin/postgres
# The trading terminal's page script: web/terminal/ bundled with viem and lightweight-charts (npm).
TERMINAL_JS := offchain/api/static/terminal/terminal.js
# The API docs page (/api-docs): Swagger UI from npm, copied beside its page.
API_DOCS := offchain/api/static/apidocs/swagger-ui-bundle.js

.PHONY: install test lint compile demo devnet console bench fuzz clean terminal soak

install: $(INSTALLED) $(ANVIL_STAMP) $(TERMINAL_JS) $(API_DOCS) $(CHROMIUM) $(PG_STAMP)

$(INSTALLED): pyproject.toml constraints.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -c constraints.txt -e '.[test,lint,bench,browser,cluster]'
	touch $@

# The committed lock lists every platform's optional anvil package, so `npm ci` installs exactly it and
# leaves the tree clean. The npm package ships the binary for this platform; link the binary itself (not the node
# wrapper) so that signals reach anvil and ape-foundry finds it with `which anvil`.
$(ANVIL_STAMP): package.json package-lock.json $(INSTALLED)
	npm ci --no-audit --no-fund --loglevel=error
	ln -sf "$$(ls -d $(CURDIR)/node_modules/@foundry-rs/anvil-linux-*/bin/anvil | head -n1)" $(ANVIL)
	touch $@

terminal: $(TERMINAL_JS)

$(TERMINAL_JS): $(wildcard web/terminal/*.js) $(ANVIL_STAMP)
	node_modules/.bin/esbuild web/terminal/main.js --bundle --format=esm --minify --target=es2020 \
		--log-level=warning --outfile=$@

$(API_DOCS): $(ANVIL_STAMP)
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css $(@D)/

# Debian's Chromium drives the dashboard test (no browser download: the network is closed).
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		(apt-get install -y -q chromium >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null)) \
		|| echo "warning: chromium could not be installed; the dashboard browser test will be skipped"; \
	else echo "warning: no root/apt-get; install Debian's chromium for the dashboard browser test"; fi

# Debian's PostgreSQL server: the tests run a throwaway cluster of it (tests/pg_cluster.py). The
# server's path names its version, so a stamp records that one is installed. apt-get takes a lock:
# one install at a time under `make -j`.
$(PG_STAMP): | $(CHROMIUM)
	@if ls $(PG_SERVER_GLOB) >/dev/null 2>&1; then mkdir -p $(@D) && touch $@; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		export DEBIAN_FRONTEND=noninteractive; \
		if apt-get install -y -q postgresql >/dev/null 2>&1 \
			|| (apt-get update -q >/dev/null && apt-get install -y -q postgresql >/dev/null); \
		then mkdir -p $(@D) && touch $@; \
		else echo "warning: postgresql could not be installed; the PostgreSQL tests will be skipped"; fi; \
	else echo "warning: no root/apt-get; install Debian's postgresql (or set BREAKWATER_TEST_PG_URL)" \
		"for the PostgreSQL tests"; fi

lint: install
	ruff check .
	lint-imports
	$(BIN)/python scripts/import_cycles.py offchain
	ruff format --check offchain tests scripts bench ape_console_extras.py

# ape does not notice when only an imported module (contracts/lib, interfaces) changed, so any
# change to any contract source recompiles everything.
CONTRACT_SOURCES := $(shell find contracts -name '*.vy' -o -name '*.vyi')
MANIFEST := .build/__local__.json

compile: install $(MANIFEST)

$(MANIFEST): $(CONTRACT_SOURCES) ape-config.yaml
	ape compile --force
	touch $@

test: lint compile
	pytest -q -n 2 --dist loadgroup --timeout 600

demo: install compile
	bash scripts/demo.sh

devnet: install
	$(ANVIL) --host 127.0.0.1 --port $(ANVIL_PORT)

console: install compile
	ape console --network ethereum:local:foundry

bench: install compile
	python -m bench

# The cluster mode's long runs (docs/cluster.md): repeated leader and NATS-node kills under load.
soak: install
	BREAKWATER_CLUSTER_SOAK=1 pytest -q -x tests/cluster -p no:cacheprovider --timeout 1800

fuzz: install compile
	python -m bench.fuzz --examples 10000

clean:
	rm -rf .build .venv node_modules deployments/*.json $(TERMINAL_JS) $(API_DOCS) $(dir $(API_DOCS))swagger-ui.css
