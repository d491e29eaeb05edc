# fashionsite in two images from one file. Cassandra is in neither: point CASSANDRA_HOSTS at a
# cluster (compose.yaml runs one beside them).
#
#   serve   the web site: gunicorn, the shipped model run by LiteRT, no TensorFlow (the default target)
#   train   serve's code plus TensorFlow and Keras: `manage.py train_model`, publishing into MODEL_DIR
#
#   docker build --target serve -t fashionsite:serve .
#   docker run -e DJANGO_SECRET_KEY=... -e CASSANDRA_HOSTS=... -v fashionsite-data:/data \
#       -v fashionsite-models:/models -p 127.0.0.1:8000:8000 fashionsite:serve
#   docker build --target train -t fashionsite:train .
#   docker run -v fashionsite-models:/models fashionsite:train --profile quick
#
# BASE: any Debian bookworm image with python3.11 and its venv module on PATH. `make test-image`
# builds on a local debootstrapped one (docker/local-base.sh) where no registry is reachable.
# Behind a TLS-intercepting proxy, hand pip the proxy's CA bundle as a secret (used, never stored):
#   --secret id=ca-certificates,src=/etc/ssl/certs/ca-certificates.crt
ARG BASE=python:3.11-slim-bookworm

# --- The serving virtualenv: requirements-serve.txt only. ---------------------------------------
FROM ${BASE} AS serve-venv

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PATH=/opt/venv/bin:$PATH

RUN python3.11 -m venv /opt/venv

# Only the requirements here, so that editing the code reinstalls nothing.
COPY requirements-serve.txt /tmp/requirements/
# --no-compile: the `code` stage below byte-compiles what serving imports, not all 46 MB of it.
RUN --mount=type=secret,id=ca-certificates \
    if [ -s /run/secrets/ca-certificates ]; then export PIP_CERT=/run/secrets/ca-certificates; fi \
    && pip install --no-cache-dir --no-compile -r /tmp/requirements/requirements-serve.txt

# Then drop what a web replica never runs (about 100 MB): pip and setuptools (the image installs nothing),
# Django's translations (no LocaleMiddleware: the site speaks en-us only), numpy's and matplotlib's
# own test suites, and LiteRT's WebGPU accelerator (the predictor runs LiteRT's CPU interpreter).
# make test-image serves, predicts and stores with what is left.
RUN site=/opt/venv/lib/python3.11/site-packages \
    && pip uninstall --quiet --yes pip setuptools \
    && find "$site/django/conf/locale" -mindepth 1 -maxdepth 1 -type d ! -name en ! -name __pycache__ -exec rm -r {} + \
    && find "$site/django/contrib" -mindepth 2 -maxdepth 2 -type d -name locale -exec rm -r {} + \
    && find "$site/numpy" "$site/matplotlib" -depth -type d -name tests -exec rm -r {} + \
    && rm -f "$site/ai_edge_litert/libLiteRtWebGpuAccelerator.so"

# --- The training virtualenv: everything requirements.txt names (serving's, TensorFlow, Keras). ---
FROM ${BASE} AS train-venv

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PATH=/opt/venv/bin:$PATH

RUN python3.11 -m venv /opt/venv

COPY requirements-serve.txt requirements.txt /tmp/requirements/
RUN --mount=type=secret,id=ca-certificates \
    if [ -s /run/secrets/ca-certificates ]; then export PIP_CERT=/run/secrets/ca-certificates; fi \
    && pip install --no-cache-dir -r /tmp/requirements/requirements.txt

# --- The code, prepared once for both images, with the serving packages only. ---------------------
FROM serve-venv AS code

ENV DJANGO_SETTINGS_MODULE=fashionsite.settings \
    STATIC_ROOT=/app/staticfiles \
    MPLCONFIGDIR=/tmp/matplotlib

WORKDIR /app
# The code, owned by root and read-only to the site (.dockerignore keeps out .venv, var, tests, .env...).
COPY . /app

# Byte-compile the code (the site cannot write __pycache__), collect static files, and run Django's
# system checks, which import every URL, view and admin: without TensorFlow installed here, a serving
# path that imported it would fail the build, not a replica's first request. Then do what a gunicorn
# worker does before its first request (import the views, load the model) and draw a chart: of the
# packages, Python writes bytecode for just the modules serving imports (about 20 MB; a module
# imported later is compiled in memory). Build-time settings write into a scratch data dir, dropped
# afterwards. The test -f fails the build if settings ignore STATIC_ROOT (files would land in the
# volume instead).
RUN python -m compileall -q /app \
    && export FASHIONSITE_DATA_DIR=/tmp/build-data \
    && python manage.py collectstatic --noinput --verbosity 0 \
    && { test -f /app/staticfiles/admin/css/base.css \
         || { echo "collectstatic did not write to \$STATIC_ROOT=/app/staticfiles: settings must read STATIC_ROOT" >&2; exit 1; }; } \
    && python manage.py check \
    && python -c "import gunicorn.app.wsgiapp, gunicorn.workers.gthread; \
from fashionsite.gunicorn import on_starting, post_worker_init; on_starting(None); \
import fashionsite.wsgi; post_worker_init(None); \
from classifier.charts import probability_chart_png; probability_chart_png([0.1] * 10)" \
    && rm -rf /tmp/build-data /tmp/matplotlib /tmp/fashionsite-prometheus \
    && chmod 0755 /app/docker/entrypoint.sh

# --- What both images run: the environment and a user that owns /data and /models. ---------------
FROM ${BASE} AS runtime

LABEL org.opencontainers.image.title="fashionsite" \
      org.opencontainers.image.description="Upload a photo of clothing, get its Fashion-MNIST class; predictions stored in Cassandra."

# FASHIONSITE_DATA_DIR is where the site writes (SQLite, the generated admin password); MODEL_DIR
# holds the model versions, the shipped one copied there by the entrypoint, new ones published by
# `train`: compose shares it between them as a volume. Static files stay in the image.
# matplotlib, Keras and gunicorn's control socket want a writable home: give them /tmp instead.
# GUNICORN_BIND is read by fashionsite/gunicorn.py and by the health check below.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LANG=C.UTF-8 \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=fashionsite.settings \
    FASHIONSITE_DATA_DIR=/data \
    MODEL_DIR=/models \
    STATIC_ROOT=/app/staticfiles \
    MPLCONFIGDIR=/tmp/matplotlib \
    KERAS_HOME=/tmp/keras \
    XDG_RUNTIME_DIR=/tmp \
    GUNICORN_BIND=0.0.0.0:8000 \
    WEB_CONCURRENCY=2

# A system user with no home and no shell; it owns /data and /models and nothing else.
RUN groupadd --system --gid 10001 fashionsite \
    && useradd --system --uid 10001 --gid fashionsite --home-dir /nonexistent --no-create-home \
       --shell /usr/sbin/nologin fashionsite \
    && mkdir -p /data /models \
    && chown fashionsite:fashionsite /data /models \
    && chmod 0750 /data \
    && chmod 0755 /models

WORKDIR /app
VOLUME ["/data", "/models"]

# --- train: `docker compose run train [train_model options]`. --------------------------------------
FROM runtime AS train

COPY --from=train-venv /opt/venv /opt/venv
COPY --from=code /app /app

# Numeric, so that runtimes can tell it is not root (Kubernetes' runAsNonRoot) without /etc/passwd.
USER 10001:10001
ENTRYPOINT ["python", "manage.py", "train_model"]
CMD []

# --- serve: the web site (the last stage, so a plain `docker build .` makes it). -------------------
FROM runtime AS serve

# From `code`: the serving virtualenv with the bytecode written there.
COPY --from=code /opt/venv /opt/venv
COPY --from=code /app /app

USER 10001:10001
EXPOSE 8000

# GET /readyz through the site's own stack: healthy means Cassandra answers and a model is loaded
# (HEALTHCHECK_PATH=/healthz checks only that the process answers), on GUNICORN_BIND's port. The
# Host header is the first DJANGO_ALLOWED_HOSTS entry, or Django would answer 400.
HEALTHCHECK --interval=30s --timeout=10s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; h = [x.strip().lstrip('.') for x in os.environ.get('DJANGO_ALLOWED_HOSTS', 'localhost').split(',') if x.strip() not in ('', '*')] or ['localhost']; p = os.environ.get('GUNICORN_BIND', ':8000').rsplit(':', 1)[1]; u.urlopen(u.Request(f'http://127.0.0.1:{p}' + os.environ.get('HEALTHCHECK_PATH', '/readyz'), headers={'Host': h[0]}), timeout=8)"]

# The entrypoint copies the shipped model into MODEL_DIR, migrates SQLite, creates the Cassandra
# keyspace and tables and the first admin, then execs the command. gunicorn's settings (bind from
# GUNICORN_BIND, workers from WEB_CONCURRENCY, threads, timeouts, no preloading) are in
# fashionsite/gunicorn.py, shared with `make run`.
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["gunicorn", "fashionsite.wsgi", \
     "--config", "python:fashionsite.gunicorn", \
     "--worker-tmp-dir", "/dev/shm"]
