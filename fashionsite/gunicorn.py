"""gunicorn settings shared by `make run` and the Docker image (`gunicorn -c python:fashionsite.gunicorn`).

No preload_app: the Cassandra driver's sessions must not cross a fork, so every worker imports the
site and connects by itself. Workers: WEB_CONCURRENCY (gunicorn's own variable), default 2.
"""

import importlib.util
import os
import shutil

from prometheus_client import multiprocess

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = 4
timeout = 60
graceful_timeout = 30
keepalive = 5
# No access log of gunicorn's own: a line written to stdout on every request, in the worker, under
# its GIL (bench/README.md). The nginx in front keeps one, buffered (deploy/nginx/local.conf.template);
# `--access-logfile -` (or GUNICORN_CMD_ARGS) turns gunicorn's back on.
accesslog = None
# Which peers may tell gunicorn the scheme (X-Forwarded-Proto): the proxies of DJANGO_TRUSTED_PROXIES
# only, none by default. (gunicorn's own default trusts every loopback client, so anyone on the host
# could make the site build https links.) A Unix socket's peer, the nginx of fashionsite/serve.py,
# is trusted by gunicorn anyway, and that nginx replaces whatever a client sent in that header.
forwarded_allow_ips = os.environ.get("DJANGO_TRUSTED_PROXIES", "")

# Every worker keeps its metrics in files there, so /metrics adds all workers up.
# The Cassandra driver's fastest I/O loop, where its wheel has one (its slow exit, see settings.py,
# does not matter to a server).
if importlib.util.find_spec("cassandra.io.libevwrapper"):
    os.environ.setdefault("CASSANDRA_REACTOR", "libev")

metrics_dir = os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", "/tmp/fashionsite-prometheus")


def on_starting(server) -> None:
    shutil.rmtree(metrics_dir, ignore_errors=True)  # counts of a previous run's workers
    os.makedirs(metrics_dir)


def child_exit(server, worker) -> None:
    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker) -> None:
    """Import the views (matplotlib takes seconds) and load the model before the first request, not
    during it: otherwise every worker's first requests wait seconds, and the ones queued behind them too."""
    from django.urls import get_resolver

    from classifier.serving import site_predictor

    get_resolver().resolve("/")
    site_predictor()
