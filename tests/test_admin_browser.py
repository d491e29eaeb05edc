"""Staff browsing predictions in the admin with a real browser: filters, search, paging, a correction."""

from __future__ import annotations

import datetime

import pytest
from playwright.sync_api import Page, expect

from classifier.admin import PredictionAdmin

from .browser_checks import open_admin_predictions
from .helpers import cassandra_db, stored

pytestmark = [cassandra_db, pytest.mark.browser]


def rows(page: Page):
    return page.locator("#result_list tbody tr")


def test_staff_filter_search_page_and_correct_in_the_admin(
    page, live_server, django_user_model, monkeypatch, tmp_path
):
    monkeypatch.setattr(PredictionAdmin, "list_per_page", 3)
    now = datetime.datetime.now(datetime.UTC)
    yesterday = now - datetime.timedelta(days=1)
    for minutes, name, label in [
        (50, "old sandal.png", "Sandal"),
        (40, "boot-a.png", "Ankle boot"),
        (30, "coat.png", "Coat"),
        (20, "boot-b.png", "Ankle boot"),
        (10, "boot-c.png", "Ankle boot"),
    ]:
        stored(yesterday - datetime.timedelta(minutes=minutes), name, label)
    stored(now - datetime.timedelta(minutes=1), "today's bag.png", "Bag")
    django_user_model.objects.create_superuser("curator", "curator@example.com", "browse predictions 42")

    open_admin_predictions(page, live_server.url, "curator", "browse predictions 42")

    # Today first, newest first, with thumbnails.
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("today's bag.png")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("[...document.images].every(image => image.complete && image.naturalWidth > 0)")

    # The filter sidebar: the past week, then one label; paging on with "Older predictions".
    sidebar = page.locator("#changelist-filter")
    sidebar.get_by_role("link", name="Past 7 days").click()
    expect(rows(page)).to_have_count(3)
    expect(rows(page).first).to_contain_text("today's bag.png")
    sidebar.get_by_role("link", name="Ankle boot").click()
    expect(sidebar.locator("li.selected")).to_contain_text(["Past 7 days", "Ankle boot", "All", "All", "All"])
    expect(rows(page)).to_have_count(3)
    expect(rows(page)).to_contain_text(["boot-c.png", "boot-b.png", "boot-a.png"])

    # The search bar keeps the filters: names starting with "BOOT-B", any case.
    page.locator("#searchbar").fill("BOOT-B")
    page.get_by_role("button", name="Search").click()
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("boot-b.png")
    page.get_by_role("link", name="Clear search").click()
    expect(rows(page)).to_have_count(3)

    # Paging with the cursor through the unfiltered week.
    sidebar.get_by_role("link", name="All").first.click()
    expect(rows(page)).to_have_count(3)
    page.get_by_role("link", name="Older predictions").click()
    expect(rows(page)).to_have_count(3)
    expect(rows(page)).to_contain_text(["coat.png", "boot-a.png", "old sandal.png"])
    expect(page.get_by_role("link", name="Older predictions")).to_have_count(0)

    # Open one, correct its label, and see the correction in the list it came from.
    rows(page).filter(has_text="coat.png").get_by_role("link").click()
    expect(page.locator("#content-main")).to_contain_text("coat.png")
    page.get_by_label("Corrected label").select_option("Shirt")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".messagelist")).to_contain_text("Corrected the label from Coat to Shirt.")
    corrected = rows(page).filter(has_text="coat.png")
    expect(corrected).to_contain_text("Shirt")
    expect(corrected).to_contain_text("by curator")
    page.screenshot(path=str(tmp_path / "admin-browse.png"), full_page=True)
