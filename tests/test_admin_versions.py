"""The admin's model versions page: each version's figures and plots, making one active, and who
may do that (a permission of its own, apart from correcting labels)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.urls import reverse

from classifier import reads
from mlmodel.classes import CLASS_NAMES

from .admin_pages import BROWSE, VERSIONS
from .helpers import cassandra_db, png_bytes

pytestmark = cassandra_db

PNG = png_bytes(np.full((28, 28), 128, np.uint8))  # a plot's bytes, as served back


def fake_version(model_dir: Path, version: str, accuracy: float, report: bool) -> None:
    directory = model_dir / version
    directory.mkdir(parents=True)
    for name in ("model.keras", "model.tflite"):
        (directory / name).write_bytes(b"not a real model")
    metadata = {
        "version": version,
        "created_at": f"{version[:4]}-11-20T09:00:00+00:00",
        "test_accuracy": accuracy,
        "test_loss": 0.25,
        "parameter_count": 257834,
        "epochs": 8,
        "subset": None,
    }
    (directory / "metadata.json").write_text(json.dumps(metadata))
    if report:
        per_class = {name: {"precision": 0.9, "recall": 0.8} for name in CLASS_NAMES}
        test = {
            "accuracy": accuracy,
            "ece_before_temperature_scaling": 0.05,
            "ece_after_temperature_scaling": 0.0123,
            "temperature": 1.4,
            "per_class": per_class,
        }
        (directory / "report.json").write_text(json.dumps({"test": test}))
        (directory / "confusion_matrix.png").write_bytes(PNG)


@pytest.fixture
def model_dir(tmp_path, settings) -> Path:
    settings.MODEL_DIR = tmp_path / "models"
    fake_version(settings.MODEL_DIR, "20261120-090000", 0.9012, report=True)
    fake_version(settings.MODEL_DIR, "20261125-113945", 0.9298, report=False)
    (settings.MODEL_DIR / "ACTIVE").write_text("20261125-113945\n")
    return settings.MODEL_DIR


def staff_with(client, django_user_model, *codenames: str):
    """The client logged in as a staff member with only these permissions of the classifier app."""
    user = django_user_model.objects.create_user("-".join(codenames), password="x" * 12, is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    return client


@pytest.fixture
def viewer_client(client, django_user_model):
    return staff_with(client, django_user_model, "view_prediction", "view_modelversion")


def test_staff_with_view_permission_only_cannot_correct_delete_or_activate(viewer_client, week, model_dir):
    coat = week[0]
    change_url = reverse("admin:classifier_prediction_change", args=[coat.id])

    detail = viewer_client.get(change_url)
    assert detail.status_code == 200
    assert 'name="corrected_label"' not in detail.text and "deletelink" not in detail.text
    assert viewer_client.get(BROWSE).status_code == 200
    assert viewer_client.post(change_url, {"corrected_label": "Shirt"}).status_code == 403
    assert (
        viewer_client.post(reverse("admin:classifier_prediction_delete", args=[coat.id])).status_code == 403
    )
    assert viewer_client.post(VERSIONS, {"version": "20261120-090000"}).status_code == 403
    assert "Make active" not in viewer_client.get(VERSIONS).text
    assert reads.find(coat.id).corrected_label is None
    assert (model_dir / "ACTIVE").read_text().strip() == "20261125-113945"
    assert not LogEntry.objects.exists()


def test_correcting_labels_does_not_allow_switching_the_model(client, django_user_model, week, model_dir):
    """Making a version active has a permission of its own: "may correct a label" is not "may
    switch the model", and the other way round."""
    corrector = staff_with(client, django_user_model, "view_prediction", "change_prediction")
    change_url = reverse("admin:classifier_prediction_change", args=[week[0].id])
    assert corrector.post(change_url, {"corrected_label": "Shirt"}).status_code == 302
    assert corrector.get(VERSIONS).status_code == 403
    assert corrector.post(VERSIONS, {"version": "20261120-090000"}).status_code == 403
    assert "Model versions" not in corrector.get("/admin/").text
    assert (model_dir / "ACTIVE").read_text().strip() == "20261125-113945"

    activator = staff_with(client, django_user_model, "activate_modelversion")
    assert "Model versions" in activator.get("/admin/").text
    assert "Make active" in activator.get(VERSIONS).text
    activated = activator.post(VERSIONS, {"version": "20261120-090000"}, follow=True)
    assert "Model version 20261120-090000 is now active" in activated.text
    assert (model_dir / "ACTIVE").read_text().strip() == "20261120-090000"
    assert activator.get(BROWSE).status_code == 403  # and it shows no predictions
    assert activator.post(change_url, {"corrected_label": "Coat"}).status_code == 403


def test_model_versions_page_lists_metrics_and_plots_and_activates(staff_client, model_dir):
    page = staff_client.get(VERSIONS).text
    rows = re.findall(r'<tr class="version" id="version-([\d-]+)">(.*?)</tr>', page, re.S)
    assert [version for version, _ in rows] == ["20261125-113945", "20261120-090000"]  # newest first
    assert "Active" in rows[0][1] and "0.9298" in rows[0][1]
    assert "Make active" in rows[1][1] and "0.9012" in rows[1][1] and "0.0123" in rows[1][1]
    plot_url = reverse("admin:classifier_modelversion_plot", args=["20261120-090000", "confusion_matrix.png"])
    assert plot_url in page
    plot = staff_client.get(plot_url)
    assert plot.status_code == 200 and plot["Content-Type"] == "image/png"
    assert b"".join(plot.streaming_content) == PNG
    assert "Model versions" in staff_client.get("/admin/").text  # reachable from the admin's home page

    activated = staff_client.post(VERSIONS, {"version": "20261120-090000"}, follow=True)

    assert "Model version 20261120-090000 is now active" in activated.text
    assert (model_dir / "ACTIVE").read_text().strip() == "20261120-090000"
    [entry] = LogEntry.objects.all()
    assert entry.change_message == (
        "Activated model version 20261120-090000 (the active one was 20261125-113945)."
    )
    refused = staff_client.post(VERSIONS, {"version": "../../etc"}, follow=True)
    assert "cannot be activated" in refused.text
    assert (model_dir / "ACTIVE").read_text().strip() == "20261120-090000"


def test_report_plots_are_served_only_for_valid_versions_and_known_names(staff_client, model_dir):
    (model_dir / "secret.png").write_bytes(PNG)
    for version, plot in [
        ("20261125-113945", "confusion_matrix.png"),  # this version has no plots
        ("20261120-090000", "metadata.json"),
        ("..", "confusion_matrix.png"),
        ("20261120-090000..", "confusion_matrix.png"),
        ("20991231-000000", "confusion_matrix.png"),
    ]:
        assert staff_client.get(f"{VERSIONS}{version}/{plot}").status_code == 404, (version, plot)


def test_model_versions_page_shows_no_server_paths(staff_client, model_dir):
    page = staff_client.get(VERSIONS).text
    assert "MODEL_DIR" in page and str(model_dir) not in page
    shutil.rmtree(model_dir / "20261120-090000" / "")
    (model_dir / "20261120-090000").mkdir()  # a version whose files are gone
    refused = staff_client.post(VERSIONS, {"version": "20261120-090000"}, follow=True)
    assert "cannot be activated" in refused.text and "MODEL_DIR" in refused.text
    assert str(model_dir) not in refused.text
