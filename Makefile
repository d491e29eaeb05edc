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

.PHONY: run test test-cluster test-image setup setup-dev deploy-tools database system-packages browser image-packages stop

run: setup database
	$(MANAGE) collectstatic --noinput --verbosity 0
	@echo "Serving http://$(HOST):$(PORT)/ (admin: http://$(HOST):$(PORT)/admin/) through nginx - Ctrl+C stops the site; 'make stop' stops Cassandra."
	PROMETHEUS_MULTIPROC_DIR=var/prometheus WEB_CONCURRENCY=$(WORKERS) \
		$(BIN)/python -m fashionsite.serve --bind $(HOST):$(PORT)

# Lint and format checks first: they take a second, the suite minutes.
test: setup-dev browser deploy-tools
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

# Outside the default run: three real nodes, one killed during uploads (a few minutes).
test-cluster: setup-dev
	$(BIN)/python -m pytest -m cluster tests/test_cluster.py -rA

# Outside the default run: builds both Docker images with podman on a debootstrapped base (cached in
# var/image-base), starts the serve image against the suite's Cassandra node and trains in the train
# image (about 10 minutes; needs root, as podman build --isolation chroot and chroot do).
test-image: setup-dev image-packages
	$(BIN)/python -m pytest -m image tests/test_image.py -rA

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
$(VENV)/.installed: requirements.txt requirements-serve.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# What tests/test_compose_loader.py and tests/test_dockerfile.py check compose.yaml and the
# Dockerfile with, built or installed once into var/tools: the Compose specification's own loader
# (compose-go, a few lines of Go built with the machine's Go 1.24+ from the Go module proxy), and
# npm's dockerfile-utils linter.
TOOLS := var/tools
DOCKERFILE_UTILS := $(TOOLS)/dockerfile-utils-0.16.3/node_modules/.bin/dockerfile-utils

deploy-tools: $(TOOLS)/composecheck $(DOCKERFILE_UTILS)

$(TOOLS)/composecheck: tools/composecheck/main.go tools/composecheck/go.mod tools/composecheck/go.sum
	@command -v go >/dev/null 2>&1 || { echo "Go 1.24 or newer is needed to build $@ (https://go.dev/doc/install)" >&2; exit 1; }
	cd tools/composecheck && go build -buildvcs=false -o $(abspath $@) .

$(DOCKERFILE_UTILS):
	$(call apt_need,npm,npm)
	npm install --prefix $(TOOLS)/dockerfile-utils-0.16.3 --no-save --no-package-lock --silent dockerfile-utils@0.16.3

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

# Builds images without a Docker engine (podman build --isolation chroot) and makes their base
# (debootstrap), for make test-image.
image-packages:
	$(call apt_need,podman,podman)
	$(call apt_need,debootstrap,debootstrap)
