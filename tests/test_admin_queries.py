"""The admin's predictions list against the real node, as staff browse it: day ranges, cursor
paging, filters and search.

Predictions are stored directly (the rows an upload writes, at chosen times), so these tests need
no model run and can place rows in any day and hour.
"""

from __future__ import annotations

import hashlib
import re

import pytest
from django.urls import reverse

from .admin_pages import BROWSE, EXPORT, all_pages, names, sidebar_selection
from .helpers import at, cassandra_db, day, listed, stored

pytestmark = cassandra_db


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
