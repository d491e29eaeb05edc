"""A result page in headless Chromium: the answer in plain words, why (the heat maps beside the
garment outline), "Wrong answer?" by keyboard, and staff accepting the suggestion in the admin.

With FASHIONSITE_SCREENSHOTS=<directory>, the screenshots the README shows are written there too
(the upload card and a result page, as 8-bit PNGs to keep them small)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from classifier import reads

from .browser_checks import check_page, open_admin_predictions
from .helpers import cassandra_db, stored_prediction

pytestmark = [cassandra_db, pytest.mark.browser]

PHOTOS = Path(__file__).parent / "photos"


def keep_screenshot(page: Page, tmp_path: Path, name: str, selector: str) -> None:
    """A screenshot of the element, in tmp_path and, when asked for, where the README's are kept."""
    path = tmp_path / name
    page.locator(selector).screenshot(path=str(path), animations="disabled")
    wanted = os.environ.get("FASHIONSITE_SCREENSHOTS")
    if wanted:
        image = Image.open(path).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
        image.save(Path(wanted) / name, optimize=True)


@pytest.mark.parametrize(
    ("probabilities", "none_of_the_ten", "headline", "detail"),
    [
        ({"Sneaker": 0.96}, False, "Sneaker", "The model is sure: it gives a Sneaker a 96% chance."),
        (
            {"Shirt": 0.46, "T-shirt/top": 0.38},
            False,
            "Probably a Shirt, maybe a T-shirt/top",
            "The model is not sure: it gives a Shirt a 46% chance and a T-shirt/top 38%.",
        ),
        (
            {"Bag": 0.7},
            True,
            "Probably none of the ten classes",
            "Its closest guess is a Bag (70%), not to be trusted.",
        ),
    ],
    ids=["sure", "unsure", "none-of-the-ten"],
)
def test_the_answer_in_plain_words(page, live_server, probabilities, none_of_the_ten, headline, detail):
    prediction = stored_prediction(probabilities, none_of_the_ten=none_of_the_ten, energy=-1.0)
    page.goto(live_server.url + prediction.get_absolute_url())

    expect(page.get_by_role("heading", level=1)).to_have_text(headline)
    expect(page.locator(".answer-detail")).to_contain_text(detail)
    top = page.locator("table.top tr")
    expect(top).to_have_count(3)
    expect(top.first.locator("th")).to_have_text(max(probabilities, key=probabilities.get))
    ten = page.locator(".ten-classes li")
    expect(ten).to_have_count(10 if none_of_the_ten else 0)
    check_page(page)


def test_a_photo_explained_then_corrected_by_a_visitor_and_accepted_by_staff(
    page, live_server, django_user_model, tmp_path
):
    photo = next((PHOTOS / "shoes").glob("*.jpg"))
    page.goto(live_server.url)
    page.get_by_label("Choose photos").set_input_files(
        [{"name": "trainers.jpg", "mimeType": "image/jpeg", "buffer": photo.read_bytes()}]
    )
    expect(page.get_by_role("img", name="Preview of trainers.jpg")).to_be_visible()
    keep_screenshot(page, tmp_path, "upload-card.png", "#upload-card")
    page.get_by_role("button", name="Classify").click()
    page.wait_for_url(re.compile(r"/predictions/"))

    # The answer, then why: the outline the preprocessing found, and the heat maps beside it.
    [prediction] = reads.latest()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    why = page.locator("#why-words")
    expect(why).to_contain_text(re.compile(r"Hiding (the part that matters most|any one part)"))
    expect(page.locator("svg.outline polygon")).to_have_count(1)
    expect(
        page.get_by_role("img", name=re.compile("Heat map over the garment in your photo"))
    ).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("Heat map over the 28×28 image"))).to_be_visible()
    check_page(page)  # the heat maps loaded, among the rest
    keep_screenshot(page, tmp_path, "result.png", "main")
    page.set_viewport_size({"width": 390, "height": 844})
    check_page(page)

    # "Wrong answer?" with the keyboard only.
    wrong = "Sandal" if prediction.label != "Sandal" else "Sneaker"
    page.get_by_label("It is really").focus()
    page.keyboard.type(wrong[:3])  # a closed select takes typed letters as a choice
    expect(page.get_by_label("It is really")).to_have_value(wrong)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Send")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".messages")).to_have_text(
        f"Thank you: your answer, {wrong}, is stored for our staff to check."
    )
    assert reads.find(prediction.id).suggested_label == wrong

    # Staff find it among the predictions with a suggestion and accept it in one click.
    page.set_viewport_size({"width": 1280, "height": 800})
    django_user_model.objects.create_superuser("curator", "curator@example.com", "check suggestions 42")
    open_admin_predictions(page, live_server.url, "curator", "check suggestions 42")
    page.locator("#changelist-filter").get_by_role("link", name="With a suggestion").click()
    row = page.locator("#result_list tbody tr", has_text="trainers.jpg")
    expect(row).to_have_count(1)
    row.get_by_role("button", name=f"Accept {wrong} as the correction of trainers.jpg").click()

    expect(page.locator(".messagelist")).to_contain_text(f"to {wrong}, accepting a visitor's suggestion.")
    row = page.locator("#result_list tbody tr", has_text="trainers.jpg")
    expect(row.locator("td.correction")).to_contain_text(f"{wrong}by curator")
    expect(row.get_by_role("button")).to_have_count(0)
    assert reads.find(prediction.id).corrected_label == wrong


def test_a_wide_garment_shows_both_looks_the_model_took(page, live_server, tmp_path):
    photo = PHOTOS / "longsleeve" / "0d3b1b5a-3d8d-406f-b953-5b506b8f5665.jpg"
    page.goto(live_server.url)
    page.get_by_label("Choose photos").set_input_files(
        [{"name": "top-laid-flat.jpg", "mimeType": "image/jpeg", "buffer": photo.read_bytes()}]
    )
    page.get_by_role("button", name="Classify").click()
    page.wait_for_url(re.compile(r"/predictions/"))

    expect(page.get_by_role("img", name="The 28×28 image the model saw")).to_be_visible()
    second = page.get_by_role("img", name=re.compile("squeezed to a square"))
    expect(second).to_be_visible()
    expect(page.get_by_text("Its second look: wider than tall")).to_be_visible()
    check_page(page)  # both looks loaded, among the rest
    assert second.evaluate("image => image.naturalWidth") == 28
    keep_screenshot(page, tmp_path, "result-second-look.png", "main")
    page.set_viewport_size({"width": 390, "height": 844})
    check_page(page)
