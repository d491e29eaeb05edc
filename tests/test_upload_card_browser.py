"""The upload card in headless Chromium: dropping, pasting, previews and removal, progress, the
results page of several photos with a failed one in place, phone width, and the form without JavaScript."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .browser_checks import (
    LOW_CONTRAST_TEXTS,
    UNLABELLED_CONTROLS,
    check_page,
    copy_image_to_clipboard,
    drop_files,
    noise_png,
)
from .conftest import CHROMIUM, CHROMIUM_FLAGS
from .helpers import cassandra_db

pytestmark = [cassandra_db, pytest.mark.browser]


def previews(page: Page):
    return page.locator("#previews li")


def test_drop_paste_preview_remove_progress_and_the_results_of_exactly_those_photos(
    page, live_server, test_image_pngs
):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.goto(live_server.url)
    check_page(page)

    # Two photos and a file that is no image, dropped on the card.
    big = noise_png(700)  # about 1.5 MB: long enough to upload for progress to show
    drop_files(
        page,
        "#upload-card",
        [
            ("boot.png", "image/png", test_image_pngs[0][0]),
            ("notes.jpg", "image/jpeg", b"shopping list: socks"),
            ("noise.png", "image/png", big),
        ],
    )
    expect(previews(page)).to_have_count(3)
    expect(previews(page).locator(".name")).to_have_text(["boot.png", "notes.jpg", "noise.png"])
    expect(page.get_by_role("img", name="Preview of boot.png")).to_be_visible()  # drawn from the file
    expect(previews(page).nth(1)).to_contain_text("No preview")
    expect(page.get_by_role("status")).to_have_text("3 photos to classify.")

    # One pasted from the clipboard with Ctrl+V, then removed again with the keyboard.
    copy_image_to_clipboard(page, test_image_pngs[1][0])
    page.keyboard.press("Control+V")
    expect(previews(page)).to_have_count(4)
    expect(previews(page).nth(3).locator(".name")).to_have_text("pasted photo 1.png")
    page.get_by_role("button", name="Remove pasted photo 1.png").focus()
    page.keyboard.press("Enter")
    expect(previews(page)).to_have_count(3)
    expect(page.get_by_role("button", name="Remove noise.png")).to_be_focused()

    # Add one more with the file chooser, remove the noise, and put it back: it goes last.
    page.get_by_label("Choose photos").set_input_files(
        [{"name": "coat.png", "mimeType": "image/png", "buffer": test_image_pngs[2][0]}]
    )
    page.get_by_role("button", name="Remove noise.png").click()
    drop_files(page, "#upload-card", [("noise.png", "image/png", big)])
    expect(previews(page).locator(".name")).to_have_text(["boot.png", "notes.jpg", "coat.png", "noise.png"])

    # A slow connection: the progress bar moves while the photos upload.
    network = page.context.new_cdp_session(page)
    network.send("Network.enable")
    network.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": 400 * 1024},
    )
    page.get_by_role("button", name="Classify").click()
    page.wait_for_function(
        "() => { const bar = document.getElementById('upload-progress');"
        " return !bar.hidden && bar.value > 5 && bar.value < 95; }"
    )
    expect(page.get_by_role("status")).to_contain_text(re.compile(r"Uploading .* of .* \(\d+%\)"))
    expect(page.get_by_role("button", name="Classify")).to_be_disabled()
    page.wait_for_url(re.compile(r"/results/"), timeout=60_000)
    network.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )

    # Exactly those photos, in the order sent; the file that is no image answered in place.
    expect(page.get_by_role("heading", level=1)).to_have_text("Your 4 photos")
    items = page.locator("ol.results > li")
    expect(items).to_have_count(4)
    expect(items.nth(0)).to_contain_text("boot.png")
    expect(items.nth(1)).to_have_class("failed")
    expect(items.nth(1)).to_contain_text("Not classified: notes.jpg")
    expect(items.nth(1)).to_contain_text("not a readable image")
    expect(items.nth(2)).to_contain_text("coat.png")
    expect(items.nth(3)).to_contain_text("noise.png")
    check_page(page)
    items.nth(0).get_by_role("link").click()
    expect(page.locator("h1")).to_be_visible()
    expect(page.get_by_text("boot.png")).to_be_visible()


def test_an_upload_of_files_that_are_all_refused_stays_on_the_card_with_the_reasons(page, live_server):
    page.goto(live_server.url)
    drop_files(page, "#upload-card", [("a.png", "image/png", b"not a picture"), ("b.gif", "image/gif", b"")])
    page.get_by_role("button", name="Classify").click()

    alert = page.get_by_role("alert")
    expect(alert.locator("li")).to_have_count(2)
    expect(alert).to_contain_text("a.png: The file is not a readable image")
    expect(alert).to_contain_text("b.gif is empty.")
    expect(previews(page)).to_have_count(2)  # kept, to remove the bad ones and try again
    expect(page.get_by_role("button", name="Classify")).to_be_enabled()


def test_classify_without_photos_asks_for_one(page, live_server):
    page.goto(live_server.url)
    page.get_by_role("button", name="Classify").click()
    expect(page.get_by_role("alert")).to_have_text("Choose at least one image to classify.")
    expect(page.get_by_label("Choose photos")).to_be_focused()


def test_on_a_phone_the_card_offers_the_camera_and_nothing_scrolls_sideways(
    page, live_server, test_image_pngs
):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url)
    camera = page.get_by_label("Take a photo")
    expect(camera).to_have_attribute("capture", "environment")
    expect(camera).to_have_attribute("accept", "image/*")
    expect(page.get_by_text("Take a photo")).to_be_visible()
    check_page(page)

    camera.set_input_files(
        [{"name": "IMG_0001.png", "mimeType": "image/png", "buffer": test_image_pngs[3][0]}]
    )
    page.get_by_label("Choose photos").set_input_files(
        [
            {
                "name": f"a-long-phone-file-name-without-spaces-{n:04d}.png",
                "mimeType": "image/png",
                "buffer": png,
            }
            for n, (png, _) in enumerate(test_image_pngs[4:7])
        ]
    )
    expect(previews(page)).to_have_count(4)
    check_page(page)
    page.get_by_role("button", name="Classify").click()
    page.wait_for_url(re.compile(r"/results/"))
    check_page(page)
    page.locator("ol.results a").first.click()
    check_page(page)


def test_on_a_desktop_the_camera_button_is_not_shown(page, live_server):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(live_server.url)
    expect(page.get_by_text("Take a photo")).to_be_hidden()
    expect(page.get_by_text("Choose photos")).to_be_visible()


def test_without_javascript_the_plain_form_uploads_chosen_photos_and_one_from_the_camera(
    live_server, test_image_pngs, tmp_path
):
    from playwright.sync_api import sync_playwright

    paths = []
    for n, (png, _) in enumerate(test_image_pngs[:3]):
        paths.append(tmp_path / f"plain-{n}.png")
        paths[-1].write_bytes(png)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
        page = context.new_page()
        page.goto(live_server.url)
        expect(page.locator("form.upload")).not_to_have_class(re.compile("enhanced"))
        page.get_by_label("Choose photos").set_input_files([str(path) for path in paths[:2]])
        page.get_by_label("Take a photo").set_input_files(str(paths[2]))
        page.get_by_role("button", name="Classify").click()
        page.wait_for_url(re.compile(r"/results/"))
        expect(page.locator("ol.results > li")).to_have_count(3)
        expect(page.locator("ol.results > li .filename")).to_have_text(
            ["plain-0.png", "plain-1.png", "plain-2.png"]
        )
        check_page(page)
        browser.close()


def test_the_page_checks_find_low_contrast_text_and_unlabelled_controls(page):
    page.set_content(
        '<body style="background: white"><p style="color: #999">faint</p><p>plain</p>'
        '<h1 style="color: #888; font-size: 30px">big</h1>'
        '<input type="text"><label>Name <input></label></body>'
    )
    assert page.evaluate(LOW_CONTRAST_TEXTS) == ["faint: 2.85 < 4.5"]  # #888 at 30px is 3.54, over 3
    assert page.evaluate(UNLABELLED_CONTROLS) == ['<input type="text">']
