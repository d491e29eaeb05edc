"""A person's path through the site, in headless Chromium: upload through the form, find it in the admin."""

import pytest
from playwright.sync_api import Page, expect

from mlmodel.classes import CLASS_NAMES

from .browser_checks import open_admin_predictions
from .helpers import cassandra_db

pytestmark = [cassandra_db, pytest.mark.browser]


def all_images_loaded(page: Page) -> bool:
    return page.evaluate("[...document.images].every(image => image.complete && image.naturalWidth > 0)")


def test_upload_through_the_form_then_find_it_in_the_admin(
    page, live_server, django_user_model, test_image_pngs, tmp_path
):
    png, label = test_image_pngs[0]
    photo = tmp_path / "boot from the shop.png"
    photo.write_bytes(png)
    django_user_model.objects.create_superuser("curator", "curator@example.com", "browse predictions 42")

    page.goto(live_server.url)
    page.get_by_label("Choose photos").set_input_files(str(photo))
    page.get_by_role("button", name="Classify").click()

    expect(page.locator("h1")).to_contain_text(CLASS_NAMES[label])
    expect(page.get_by_text("boot from the shop.png")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert all_images_loaded(page)  # the upload, the 28x28 input and the chart

    open_admin_predictions(page, live_server.url, "curator", "browse predictions 42")

    row = page.locator("#result_list tbody tr", has_text="boot from the shop.png")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(CLASS_NAMES[label])
    row.get_by_role("link").click()

    expect(page.locator("#content-main")).to_contain_text("boot from the shop.png")
    expect(page.locator("#content-main")).to_contain_text("PNG, 28×28 pixels")
    page.wait_for_load_state("networkidle")
    assert all_images_loaded(page)
    page.screenshot(path=str(tmp_path / "admin-detail.png"), full_page=True)


def test_a_bad_file_shows_a_form_error(page, live_server, tmp_path):
    notes = tmp_path / "notes.png"
    notes.write_text("not a picture")

    page.goto(live_server.url)
    page.get_by_label("Choose photos").set_input_files(str(notes))
    page.get_by_role("button", name="Classify").click()

    expect(page.get_by_role("alert")).to_contain_text("notes.png: The file is not a readable image")
    expect(page.get_by_text("Nothing uploaded from this browser yet.")).to_be_visible()
