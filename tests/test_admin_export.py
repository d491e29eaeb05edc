"""The admin's CSV export of what the predictions list shows: every row of the filtered view or of
a search, streamed."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.http import StreamingHttpResponse

from classifier import store

from .admin_pages import BROWSE, EXPORT
from .helpers import at, cassandra_db, day, stored

pytestmark = cassandra_db


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
