"""Prometheus metrics beyond django-prometheus's request counts and latencies.

Under gunicorn, set PROMETHEUS_MULTIPROC_DIR (an empty directory) so /metrics adds up every worker.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django_prometheus.exports import ExportToDjangoView
from prometheus_client import Counter, Gauge

from mlmodel.artifacts import active_version

PREDICTIONS = Counter(
    "fashionsite_predictions_total",
    "Predictions stored, by predicted class (repeats not counted).",
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


def export(request: HttpRequest) -> HttpResponse:
    ACTIVE_MODEL.clear()
    try:
        ACTIVE_MODEL.labels(active_version(settings.MODEL_DIR)).set(1)
    except (OSError, ValueError):
        pass  # no active model: /readyz says so; the metric is simply absent
    return ExportToDjangoView(request)
