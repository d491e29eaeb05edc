"""What a Prometheus server scrapes from /metrics."""

import re

from django.core.files.uploadedfile import SimpleUploadedFile

from mlmodel.classes import CLASS_NAMES

from .helpers import cassandra_db

pytestmark = cassandra_db


def sample(text: str, name: str, **labels: str) -> float:
    selector = ",".join(f'{key}="{value}"' for key, value in labels.items())
    pattern = rf"^{name}\{{{selector}\}} (\S+)$" if labels else rf"^{name} (\S+)$"
    match = re.search(pattern, text, re.MULTILINE)
    return float(match[1]) if match else 0.0


def test_metrics_count_predictions_by_class_repeats_and_requests(client, test_image_pngs, settings):
    png, label = test_image_pngs[0]
    before = client.get("/metrics").text
    for name in ("first.png", "again.png"):
        client.post("/api/predictions", {"image": [SimpleUploadedFile(name, png, "image/png")]})
    after = client.get("/metrics").text

    predicted = CLASS_NAMES[label]
    assert (
        sample(after, "fashionsite_predictions_total", label=predicted)
        == sample(before, "fashionsite_predictions_total", label=predicted) + 1
    )
    assert (
        sample(after, "fashionsite_repeat_uploads_total")
        == sample(before, "fashionsite_repeat_uploads_total") + 1
    )
    active = (settings.MODEL_DIR / "ACTIVE").read_text().strip()
    assert sample(after, "fashionsite_active_model", version=active) == 1
    assert "django_http_requests_latency_seconds_by_view_method_bucket" in after
    assert re.search(r'django_http_responses_total_by_status_view_method_total\{[^}]*status="201"', after)
