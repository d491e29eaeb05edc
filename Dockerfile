# fashionsite: the Django site, its shipped model and gunicorn, in one image.
# Cassandra is not in it: point CASSANDRA_HOSTS at a cluster (compose.yaml runs one beside it).
#
#   docker build -t fashionsite .
#   docker run -e DJANGO_SECRET_KEY=... -e CASSANDRA_HOSTS=... -v fashionsite-data:/data -p 127.0.0.1:8000:8000 fashionsite

# --- Stage 1: the virtualenv, runtime requirements only (requirements-dev.txt stays out). --------
FROM python:3.11-slim-bookworm AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

# Only requirements.txt here, so that editing the code does not reinstall TensorFlow.
COPY requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir -r /tmp/requirements.txt

# --- Stage 2: what runs. ------------------------------------------------------------------------
FROM python:3.11-slim-bookworm AS runtime

LABEL org.opencontainers.image.title="fashionsite" \
      org.opencontainers.image.description="Upload a photo of clothing, get its Fashion-MNIST class; predictions stored in Cassandra."

# FASHIONSITE_DATA_DIR is the one place the site writes (SQLite, the generated admin password).
# STATIC_ROOT moves collected static files out of it, into the image (settings must read it).
# matplotlib, Keras and gunicorn's control socket want a writable home: give them /tmp instead.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=fashionsite.settings \
    FASHIONSITE_DATA_DIR=/data \
    STATIC_ROOT=/app/staticfiles \
    MPLCONFIGDIR=/tmp/matplotlib \
    KERAS_HOME=/tmp/keras \
    XDG_RUNTIME_DIR=/tmp \
    WEB_CONCURRENCY=2

# A system user with no home and no shell; it owns /data and nothing else.
RUN groupadd --system --gid 10001 fashionsite \
    && useradd --system --uid 10001 --gid fashionsite --home-dir /nonexistent --no-create-home \
       --shell /usr/sbin/nologin fashionsite \
    && mkdir -p /data \
    && chown fashionsite:fashionsite /data \
    && chmod 0750 /data

COPY --from=builder /opt/venv /opt/venv

WORKDIR /app
# The code, owned by root and read-only to the site (.dockerignore keeps out .venv, var, tests, .env...).
COPY . /app

# Byte-compile the code (the site cannot write __pycache__), collect static files into the image,
# and run Django's system checks, which import every view and so TensorFlow: a broken image fails
# here, not at its first request. Build-time settings write into a scratch data dir, then drop it.
# The test -f fails the build if settings ignore STATIC_ROOT (files would land in the volume instead).
RUN python -m compileall -q /app \
    && FASHIONSITE_DATA_DIR=/tmp/build-data python manage.py collectstatic --noinput \
    && { test -f /app/staticfiles/admin/css/base.css \
         || { echo "collectstatic did not write to \$STATIC_ROOT=/app/staticfiles: settings must read STATIC_ROOT" >&2; exit 1; }; } \
    && FASHIONSITE_DATA_DIR=/tmp/build-data python manage.py check \
    && rm -rf /tmp/build-data /tmp/matplotlib /tmp/keras \
    && chmod 0755 /app/docker/entrypoint.sh

# Numeric, so that runtimes can tell it is not root (Kubernetes' runAsNonRoot) without /etc/passwd.
USER 10001:10001

VOLUME ["/data"]
EXPOSE 8000

# GET /readyz through the site's own stack: healthy means Cassandra answers and a model is loaded
# (HEALTHCHECK_PATH=/healthz checks only that the process answers). The Host header is the first
# DJANGO_ALLOWED_HOSTS entry, or Django would answer 400.
HEALTHCHECK --interval=30s --timeout=10s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; h = [x.strip().lstrip('.') for x in os.environ.get('DJANGO_ALLOWED_HOSTS', 'localhost').split(',') if x.strip() not in ('', '*')] or ['localhost']; u.urlopen(u.Request('http://127.0.0.1:8000' + os.environ.get('HEALTHCHECK_PATH', '/readyz'), headers={'Host': h[0]}), timeout=8)"]

# The entrypoint migrates SQLite, creates the Cassandra keyspace and tables, creates the first
# admin, then execs the command. gunicorn's settings (workers from WEB_CONCURRENCY, threads,
# timeouts, no preloading) are in fashionsite/gunicorn.py, shared with `make run`.
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["gunicorn", "fashionsite.wsgi", \
     "--config", "python:fashionsite.gunicorn", \
     "--bind", "0.0.0.0:8000", \
     "--worker-tmp-dir", "/dev/shm"]
