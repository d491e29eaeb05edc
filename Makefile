# The two commands of the README:
#   make run    set everything up (packages, Cassandra node, schema, admin login) and serve the site
#               through nginx
#   make test   set up what the tests need and run the whole suite
# Both install what is missing and are quick when nothing is.

PYTHON ?= python3.11
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2

VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: run test test-cluster setup setup-dev database system-packages browser stop

run: setup database
	$(MANAGE) collectstatic --noinput --verbosity 0
	@echo "Serving http://$(HOST):$(PORT)/ (admin: http://$(HOST):$(PORT)/admin/) through nginx - Ctrl+C stops the site; 'make stop' stops Cassandra."
	PROMETHEUS_MULTIPROC_DIR=var/prometheus WEB_CONCURRENCY=$(WORKERS) \
		$(BIN)/python -m fashionsite.serve --bind $(HOST):$(PORT)

# Lint and format checks first: they take a second, the suite minutes.
test: setup-dev browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

# Outside the default run: three real nodes, one killed during uploads (a few minutes).
test-cluster: setup-dev
	$(BIN)/python -m pytest -m cluster tests/test_cluster.py -rA

# The local Cassandra node (unless CASSANDRA_HOSTS names a cluster), both schemas, the first admin.
database:
	$(MANAGE) cassandra start
	$(MANAGE) migrate --noinput
	$(MANAGE) sync_schema
	$(MANAGE) createadmin

stop:
	$(MANAGE) cassandra stop

setup: system-packages $(VENV)/.installed
setup-dev: setup $(VENV)/.installed-dev

# An existing environment is kept (venv refuses to recreate one that .venv links to).
$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# Debian packages, installed only when their command is missing. JDK 17 and Maven run the local
# Cassandra node; nginx buffers requests in front of gunicorn (fashionsite/serve.py runs one of its
# own with deploy/nginx/; where systemd runs, Debian's package also starts its default site on port
# 80: `systemctl disable --now nginx` stops that one); Chromium is the browser the browser tests
# drive (never a downloaded build).
define apt_need
	@command -v $(1) >/dev/null 2>&1 || { \
		echo "Installing $(2) (for $(1))"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends $(2); }
endef

system-packages:
	$(call apt_need,$(PYTHON),python3.11 python3.11-venv)
	$(call apt_need,java,openjdk-17-jre-headless)
	$(call apt_need,mvn,maven)
	$(call apt_need,/usr/sbin/nginx,nginx)

browser:
	$(call apt_need,chromium,chromium)
