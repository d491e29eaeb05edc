"""Prometheus metrics beyond django-prometheus's request counts and latencies, and who may read them.

Under gunicorn, set PROMETHEUS_MULTIPROC_DIR (an empty directory) so /metrics adds up every worker.
/metrics answers only clients at METRICS_ALLOWED_ADDRESSES (loopback by default) or sending
METRICS_TOKEN as a bearer token: it tells how busy the site is and what it predicts. Request
metrics label the HTTP method only with the methods the site serves, so made-up methods cannot
grow new series without end.
"""

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django_prometheus.exports import ExportToDjangoView
from django_prometheus.middleware import PrometheusAfterMiddleware
from prometheus_client import Counter, Gauge

from mlmodel.artifacts import active_version

from .errors import error_response
from .proxy import in_networks

SERVED_METHODS = frozenset({"GET", "HEAD", "POST", "OPTIONS"})
OTHER_METHOD = "other"

PREDICTIONS = Counter(
    "fashionsite_predictions_total",
    "Uploads the model classified, by predicted class (repeats, which reuse a classification, not counted).",
    ["label"],
)
REPEATS = Counter(
    "fashionsite_repeat_uploads_total", "Uploads answered with an earlier prediction of the same file."
)
ACTIVE_MODEL = Gauge(
    "fashionsite_active_model",
    "1 for the model version that serves predictions.",
    ["version"],
    multiprocess_mode="mostrecent",
)


def count(labels: list[str], repeats: int) -> None:
    """Count newly stored predictions by label, and uploads answered with an earlier prediction."""
    for label in labels:
        PREDICTIONS.labels(label).inc()
    if repeats:
        REPEATS.inc(repeats)


def may_read_metrics(request: HttpRequest) -> bool:
    if in_networks(request.META.get("REMOTE_ADDR", ""), tuple(settings.METRICS_ALLOWED_ADDRESSES)):
        return True
    token = settings.METRICS_TOKEN
    sent = request.headers.get("Authorization", "")
    return bool(token) and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())


def export(request: HttpRequest) -> HttpResponse:
    if not may_read_metrics(request):
        return error_response(
            request, 403, "forbidden", "Metrics are only for the monitoring system's address or token."
        )
    ACTIVE_MODEL.clear()
    try:
        ACTIVE_MODEL.labels(active_version(settings.MODEL_DIR)).set(1)
    except (OSError, ValueError):
        pass  # no active model: /readyz says so; the metric is simply absent
    return ExportToDjangoView(request)


class BoundedMethodMetricsMiddleware(PrometheusAfterMiddleware):
    """django-prometheus's request metrics, with a method the site does not serve labelled "other"
    (it labels latencies with the request's method as sent, any word a client makes up)."""

    def label_metric(self, metric, request, response=None, **labels):
        if labels.get("method") not in (None, *SERVED_METHODS):
            labels["method"] = OTHER_METHOD
        return super().label_metric(metric, request, response, **labels)
