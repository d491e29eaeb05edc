"""The admin's predictions list against the real node: day ranges, cursor paging, filters, search,
corrections, deletion, CSV export and the model versions page, as staff see them.

Predictions are stored directly (the rows an upload writes, at chosen times), so these tests need
no model run and can place rows in any day and hour.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import html
import io
import json
import re
from pathlib import Path

import pytest
from cassandra.util import uuid_from_time
from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.contrib.auth.models import Permission
from django.http import StreamingHttpResponse
from django.urls import reverse
from PIL import Image

from classifier import reads, store
from classifier.admin import PredictionAdmin
from classifier.models import Prediction
from mlmodel.classes import CLASS_NAMES

from .helpers import cassandra_db, listed

pytestmark = cassandra_db

BROWSE = "/admin/classifier/prediction/"
EXPORT = "/admin/classifier/prediction/export/"
VERSIONS = "/admin/classifier/modelversion/"
MODEL_VERSION = "20261125-113945"


# --- Predictions made to order ---------------------------------------------------------------------


def _image_bytes(image_format: str, size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", size, 128).save(buffer, format=image_format)
    return buffer.getvalue()


PNG = _image_bytes("PNG", (28, 28))
JPEG = _image_bytes("JPEG", (40, 40))


def day(count: int) -> datetime.date:
    """The UTC day `count` days ago."""
    return datetime.datetime.now(datetime.UTC).date() - datetime.timedelta(days=count)


def at(days_ago: int, hour: int, minute: int = 0, second: int = 0) -> datetime.datetime:
    d = day(days_ago)
    return datetime.datetime(d.year, d.month, d.day, hour, minute, second, tzinfo=datetime.UTC)


def stored(
    when: datetime.datetime,
    filename: str,
    label: str = "Coat",
    confidence: float = 0.9,
    model_version: str = MODEL_VERSION,
    sha256: str | None = None,
) -> Prediction:
    """Store a prediction made at `when`, with the rows an upload writes (store.record)."""
    index = CLASS_NAMES.index(label)
    rest = (1 - confidence) / (len(CLASS_NAMES) - 1)
    values = {
        "id": uuid_from_time(when),
        "filename": filename,
        "label": label,
        "label_index": index,
        "confidence": confidence,
        "probabilities": [confidence if n == index else rest for n in range(len(CLASS_NAMES))],
        "model_version": model_version,
        "sha256": sha256 or hashlib.sha256(f"{filename}@{when.isoformat()}".encode()).hexdigest(),
        "image_format": "PNG",
        "image_width": 28,
        "image_height": 28,
        "preprocessing": json.dumps({"source_size": [28, 28], "inverted": False, "trimmed_box": None}),
    }
    return store.record(values, {"model_input_png": PNG, "thumbnail_jpeg": JPEG})


# --- Reading the pages as staff see them -------------------------------------------------------------


def next_link(page_html: str) -> str | None:
    found = re.search(
        r'<a href="([^"]+)" class="(?:older|next)">(?:Older predictions|Next results)', page_html
    )
    return html.unescape(found[1]) if found else None


def all_pages(client, query: str) -> list[list[str]]:
    """The filenames of every page, following the next-page links from `query`."""
    pages, url = [], BROWSE + query
    while url:
        response = client.get(url)
        assert response.status_code == 200
        pages.append(listed(response.text))
        link = next_link(response.text)
        url = BROWSE + link if link else None
    return pages


def sidebar_selection(page_html: str) -> list[str]:
    """The selected choice of each filter in the sidebar."""
    sidebar = page_html.split('id="changelist-filter"', 1)[1]
    return [
        html.unescape(name)
        for name in re.findall(r'<li class="selected">\s*<a href="[^"]*">([^<]+)</a>', sidebar)
    ]


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(PredictionAdmin, "list_per_page", 3)


@pytest.fixture
def week():
    """Predictions over three past days and several hours of each (newest first in `names`)."""
    rows = [
        (at(3, 9), "coat-a.png", "Coat", 0.95, MODEL_VERSION),
        (at(3, 17), "Boot-1.PNG", "Ankle boot", 0.55, MODEL_VERSION),
        (at(2, 0, 5), "bag.jpg", "Bag", 0.99, "20261201-080000"),
        (at(2, 8), "boots.jpg", "Ankle boot", 0.97, "20261201-080000"),
        (at(2, 8, 30), "shirt.png", "Shirt", 0.41, MODEL_VERSION),
        (at(2, 23, 59), "BOOT_2.png", "Sneaker", 0.52, "20261201-080000"),
        (at(1, 6), "dress.png", "Dress", 0.88, MODEL_VERSION),
        (at(1, 6, 1), "boot 3.png", "Ankle boot", 0.93, MODEL_VERSION),
    ]
    return [stored(when, name, label, confidence, version) for when, name, label, confidence, version in rows]


def names(predictions) -> list[str]:
    return [p.filename for p in predictions]


# --- Browsing -------------------------------------------------------------------------------------


def test_a_range_of_days_pages_newest_first_across_days_and_hours(staff_client, week, small_pages):
    stored(at(5, 12), "too-old.png")  # outside the range

    pages = all_pages(staff_client, f"?from={day(4)}&to={day(0)}")

    assert [len(page) for page in pages] == [3, 3, 2]
    assert sum(pages, []) == names(week)[::-1]
    first = staff_client.get(f"{BROWSE}?from={day(4)}&to={day(0)}").text
    assert f"Predictions from {day(4):%-d %b %Y} to {day(0):%-d %b %Y}" in first
    assert sidebar_selection(first) == ["All", "All", "All", "All"]  # no preset day choice matches 5 days


def test_one_day_and_the_day_presets(staff_client, week):
    one_day = staff_client.get(f"{BROWSE}?day={day(2)}").text
    assert listed(one_day) == ["BOOT_2.png", "shirt.png", "boots.jpg", "bag.jpg"]
    assert f"Predictions of {day(2):%A %-d %B %Y}" in one_day

    past_week = staff_client.get(f"{BROWSE}?from={day(6)}&to={day(0)}").text
    assert sidebar_selection(past_week)[0] == "Past 7 days"
    assert listed(past_week) == names(week)[::-1]
    assert listed(staff_client.get(BROWSE).text) == []  # today: nothing yet


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("label=Ankle+boot", ["boot 3.png", "boots.jpg", "Boot-1.PNG"]),
        ("model_version=20261201-080000", ["BOOT_2.png", "boots.jpg", "bag.jpg"]),
        ("uncertain=1", ["BOOT_2.png", "shirt.png", "Boot-1.PNG"]),
        ("label=Ankle+boot&uncertain=1", ["Boot-1.PNG"]),
        ("label=Ankle+boot&model_version=20261201-080000", ["boots.jpg"]),
        ("label=Sneaker&model_version=20261201-080000&uncertain=1", ["BOOT_2.png"]),
        ("label=Trouser", []),
    ],
)
def test_filters(staff_client, week, query, expected):
    page = staff_client.get(f"{BROWSE}?from={day(6)}&to={day(0)}&{query}").text
    assert listed(page) == expected
    if not expected:
        assert "No predictions in these days with these filters." in page
    assert "Clear all filters" in page


def test_the_sidebar_shows_and_keeps_the_chosen_filters(staff_client, week):
    page = staff_client.get(f"{BROWSE}?from={day(6)}&to={day(0)}&label=Dress&uncertain=1").text
    assert sidebar_selection(page) == ["Past 7 days", "Dress", "All", "Uncertain (below 60%)", "All"]
    # A label link keeps the days and the other filters, and replaces the label.
    assert f'href="?from={day(6)}&amp;to={day(0)}&amp;label=Coat&amp;uncertain=1"' in page
    # The search form carries the days and filters along.
    assert '<input type="hidden" name="label" value="Dress">' in page


def test_filtered_pages_follow_the_cursor_through_partitions(staff_client, small_pages):
    expected = []
    for n in range(8):  # one Bag and one Coat in each of eight hours over two days
        when = at(1 + n // 4, 20 - n)
        stored(when.replace(minute=10), f"bag-{n}.png", "Bag")
        expected.append(f"bag-{n}.png")
        stored(when.replace(minute=20), f"coat-{n}.png", "Coat")

    pages = all_pages(staff_client, f"?from={day(2)}&to={day(1)}&label=Bag")

    assert [len(page) for page in pages] == [3, 3, 2]
    assert sum(pages, []) == expected


def test_a_model_version_filter_reads_only_the_hours_of_that_version(staff_client, cql_sent):
    stored(at(9, 10), "old-model.png", model_version="20261001-090000")
    for n in range(9):
        stored(at(n, 1 + n), f"current-{n}.png")
    cql_sent.clear()

    page = staff_client.get(f"{BROWSE}?from={day(9)}&to={day(0)}&model_version=20261001-090000").text

    assert listed(page) == ["old-model.png"]
    assert len([cql for cql in cql_sent if re.search(r"\.prediction WHERE", cql)]) == 1  # not ten hours


def test_browsing_asks_cassandra_nothing_that_needs_allow_filtering(staff_client, week, cql_sent):
    for query in (
        f"?from={day(6)}&to={day(0)}",
        f"?day={day(2)}&label=Bag&model_version=20261201-080000&uncertain=1",
        f"?from={day(6)}&to={day(0)}&q=boot",
        f"?q={week[0].sha256[:6]}&search_by=sha256&label=Coat",
    ):
        assert staff_client.get(BROWSE + query).status_code == 200
        assert staff_client.get(EXPORT + query).status_code == 200
    assert (
        staff_client.get(reverse("admin:classifier_prediction_change", args=[week[0].id])).status_code == 200
    )

    predictions_read = [cql for cql in cql_sent if " FROM " in cql and "system" not in cql]
    assert any("label = ?" in cql for cql in predictions_read)
    assert any("name_key >= ?" in cql for cql in predictions_read)
    assert not [cql for cql in cql_sent if "ALLOW FILTERING" in cql.upper()]


def test_bad_parameters(staff_client):
    assert staff_client.get(f"{BROWSE}?day=last-tuesday").status_code == 404
    assert staff_client.get(f"{BROWSE}?from=2026-13-01").status_code == 404
    assert staff_client.get(f"{BROWSE}?label=Hat").status_code == 404
    assert staff_client.get(f"{BROWSE}?before=not-a-cursor").status_code == 404
    reversed_range = staff_client.get(f"{BROWSE}?from={day(0)}&to={day(3)}")  # read as the range it names
    assert f"Predictions from {day(3):%-d %b %Y} to {day(0):%-d %b %Y}" in reversed_range.text


# --- Searching ------------------------------------------------------------------------------------


def test_filename_search_is_a_case_insensitive_prefix_in_name_order_per_day(staff_client, week):
    page = staff_client.get(f"{BROWSE}?from={day(6)}&to={day(0)}&q=BOOT&search_by=filename").text
    # Newest day first; within a day, in name order.
    assert listed(page) == ["boot 3.png", "BOOT_2.png", "boots.jpg", "Boot-1.PNG"]
    assert 'value="BOOT"' in page  # the search bar keeps the text

    assert listed(staff_client.get(f"{BROWSE}?day={day(2)}&q=boot").text) == ["BOOT_2.png", "boots.jpg"]
    assert listed(staff_client.get(f"{BROWSE}?from={day(6)}&to={day(0)}&q=boots").text) == ["boots.jpg"]
    assert listed(staff_client.get(f"{BROWSE}?from={day(6)}&to={day(0)}&q=boot&uncertain=1").text) == [
        "BOOT_2.png",
        "Boot-1.PNG",
    ]
    nothing = staff_client.get(f"{BROWSE}?from={day(6)}&to={day(0)}&q=hat").text
    assert listed(nothing) == [] and "No predictions match." in nothing


def test_filename_search_pages_with_a_cursor(staff_client, small_pages):
    for n in range(4):  # the same name several times (cursor inside one name), and neighbours
        stored(at(1, 10, n), "jacket.png", "Coat")
    for n, name in enumerate(["jacket-b.png", "Jacket-a.png", "jeans.png", "jacket-c.png"]):
        stored(at(1, 11, n), name, "Coat")
    stored(at(2, 10), "jacket-old.png", "Coat")
    expected = ["jacket-a.png", "jacket-b.png", "jacket-c.png", "jacket.png"]

    pages = all_pages(staff_client, f"?from={day(2)}&to={day(1)}&q=JACKET")

    assert [len(page) for page in pages] == [3, 3, 2]
    flat = [name.lower() for name in sum(pages, [])]
    assert flat == sorted(expected[:3]) + ["jacket.png"] * 4 + ["jacket-old.png"]


def test_sha256_prefix_search_covers_all_days(staff_client):
    digest = hashlib.sha256(b"the same photo").hexdigest()
    first = stored(at(30, 8), "first.png", sha256=digest)
    again = stored(at(2, 8), "again.png", sha256=digest)
    stored(at(2, 9), "other.png", sha256=digest[:6] + "0" * 58)
    stored(at(2, 10), "unrelated.png", sha256="f" * 64 if digest[0] != "f" else "0" * 64)

    everything = staff_client.get(f"{BROWSE}?q={digest[:4]}&search_by=sha256").text
    assert set(listed(everything)) == {"first.png", "again.png", "other.png"}
    exact = staff_client.get(f"{BROWSE}?q={digest.upper()}&search_by=sha256").text
    assert listed(exact) == ["again.png", "first.png"]  # the same file: newest first
    assert reverse("admin:classifier_prediction_change", args=[first.id]) in exact
    assert again.id != first.id

    too_short = staff_client.get(f"{BROWSE}?q=abc&search_by=sha256")
    assert too_short.status_code == 200
    assert "Search a SHA-256 by its first 4 to 64 hexadecimal digits." in too_short.text
    assert 'value="abc"' in too_short.text
    assert "Search a SHA-256" in staff_client.get(f"{BROWSE}?q=not-hex!&search_by=sha256").text


# --- Corrections, deletion, permissions ----------------------------------------------------------


def test_staff_correct_a_label_and_the_list_and_history_show_it(staff_client, week):
    coat = week[0]
    change_url = reverse("admin:classifier_prediction_change", args=[coat.id])
    detail = staff_client.get(change_url).text
    assert 'name="corrected_label"' in detail and "csrfmiddlewaretoken" in detail

    saved = staff_client.post(change_url, {"corrected_label": "Shirt", "_save": "Save"}, follow=True)

    assert saved.redirect_chain[-1][0].endswith(f"{BROWSE}?day={day(3)}")
    assert "was changed: Corrected the label from Coat to Shirt." in saved.text
    row = re.search(r"coat-a\.png</td>.*?</tr>", saved.text, re.S)[0]
    assert "Shirt" in row and "by staff" in row
    stored_now = reads.find(coat.id)
    assert (stored_now.label, stored_now.corrected_label, stored_now.corrected_by) == (
        "Coat",
        "Shirt",
        "staff",
    )
    assert abs(stored_now.corrected_at_utc - datetime.datetime.now(datetime.UTC)).total_seconds() < 60
    assert (stored_now.filename, stored_now.sha256) == (coat.filename, coat.sha256)
    assert stored_now.confidence == pytest.approx(coat.confidence)

    [entry] = LogEntry.objects.filter(object_id=str(coat.id))
    assert (entry.action_flag, entry.user.username) == (CHANGE, "staff")
    assert entry.get_change_message() == "Corrected the label from Coat to Shirt."
    history = staff_client.get(reverse("admin:classifier_prediction_history", args=[coat.id])).text
    assert "Corrected the label from Coat to Shirt." in history

    cleared = staff_client.post(change_url, {"corrected_label": "", "_continue": "1"}, follow=True)
    assert cleared.redirect_chain[-1][0] == change_url
    assert "Removed the correction of the label (was Shirt)." in cleared.text
    assert reads.find(coat.id).corrected_label is None
    assert LogEntry.objects.filter(object_id=str(coat.id)).count() == 2


def test_a_correction_made_from_a_filtered_list_returns_to_it(staff_client, week):
    listing = staff_client.get(f"{BROWSE}?from={day(6)}&to={day(0)}&label=Dress").text
    change_link = html.unescape(re.search(r'<th scope="row"><a href="([^"]+)"', listing)[1])
    assert "_changelist_filters=" in change_link

    saved = staff_client.post(change_link, {"corrected_label": "Dress"}, follow=True)

    assert saved.redirect_chain[-1][0].endswith(f"{BROWSE}?from={day(6)}&to={day(0)}&label=Dress")
    assert "Confirmed the label Dress." in saved.text


def test_delete_removes_the_prediction_everywhere_and_logs_it(staff_client, week):
    boots = week[3]
    delete_url = reverse("admin:classifier_prediction_delete", args=[boots.id])
    confirm = staff_client.get(delete_url)
    assert confirm.status_code == 200 and "Are you sure you want to delete the prediction" in confirm.text

    deleted = staff_client.post(delete_url, {"post": "yes"}, follow=True)

    assert "was deleted successfully" in deleted.text
    assert "boots.jpg" not in listed(deleted.text)
    assert reads.find(boots.id) is None and reads.images_of(boots.id) is None
    assert reads.earlier_prediction(boots.sha256, boots.model_version) is None
    assert "boots.jpg" not in listed(staff_client.get(f"{BROWSE}?from={day(6)}&to={day(0)}&q=boots").text)
    assert listed(staff_client.get(f"{BROWSE}?q={boots.sha256}&search_by=sha256").text) == []
    [entry] = LogEntry.objects.filter(object_id=str(boots.id))
    assert entry.action_flag == DELETION and entry.object_repr == str(boots)
    assert staff_client.get(reverse("admin:classifier_prediction_change", args=[boots.id])).status_code == 404


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


def test_the_admin_requires_staff_for_every_page(client, django_user_model, week):
    for url in (BROWSE, EXPORT, VERSIONS, reverse("admin:classifier_prediction_change", args=[week[0].id])):
        assert client.get(url).url.startswith("/admin/login/")
    client.force_login(
        django_user_model.objects.create_user("staff-no-perms", password="x" * 12, is_staff=True)
    )
    assert client.get(BROWSE).status_code == 403
    assert client.get(EXPORT).status_code == 403


# --- CSV export -----------------------------------------------------------------------------------


def test_export_streams_every_row_of_the_filtered_view(staff_client, week, small_pages):
    stored(at(2, 12), "=HYPERLINK(evil).png", "Ankle boot")
    store.correct(
        week[1].id, "Sneaker", "curator", datetime.datetime(2026, 11, 20, 10, 0, tzinfo=datetime.UTC)
    )

    response = staff_client.get(f"{EXPORT}?from={day(6)}&to={day(0)}&label=Ankle+boot")

    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="predictions-{day(6)}-to-{day(0)}.csv"'
    lines = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    # More rows than one page of the list, all of them, newest first.
    assert [line["filename"] for line in lines] == [
        "boot 3.png",
        "'=HYPERLINK(evil).png",
        "boots.jpg",
        "Boot-1.PNG",
    ]
    boot = lines[3]
    assert (boot["label"], boot["uncertain"], boot["corrected_label"], boot["corrected_by"]) == (
        "Ankle boot",
        "1",
        "Sneaker",
        "curator",
    )
    assert boot["corrected_at"] == "2026-11-20T10:00:00+00:00"
    assert float(boot["p_Ankle boot"]) == pytest.approx(0.55)
    assert boot["id"] == str(week[1].id) and boot["sha256"] == week[1].sha256


def test_export_of_a_search(staff_client, week):
    response = staff_client.get(f"{EXPORT}?from={day(6)}&to={day(0)}&q=boot")
    lines = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [line["filename"] for line in lines] == ["boot 3.png", "BOOT_2.png", "boots.jpg", "Boot-1.PNG"]
    assert staff_client.get(f"{EXPORT}?q=12&search_by=sha256").status_code == 400
    export_link = f'href="{EXPORT}?from={day(6)}&amp;to={day(0)}&amp;q=boot&amp;search_by=filename"'
    assert export_link in staff_client.get(f"{BROWSE}?from={day(6)}&to={day(0)}&q=boot").text


# --- Model versions -------------------------------------------------------------------------------


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
    import shutil

    page = staff_client.get(VERSIONS).text
    assert "MODEL_DIR" in page and str(model_dir) not in page
    shutil.rmtree(model_dir / "20261120-090000" / "")
    (model_dir / "20261120-090000").mkdir()  # a version whose files are gone
    refused = staff_client.post(VERSIONS, {"version": "20261120-090000"}, follow=True)
    assert "cannot be activated" in refused.text and "MODEL_DIR" in refused.text
    assert str(model_dir) not in refused.text
