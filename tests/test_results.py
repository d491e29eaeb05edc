"""What a visitor reads after an upload, without JavaScript: the answer in plain words (sure, unsure,
none of the ten), the top three, and the results page of an upload of several photos."""

from __future__ import annotations

import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from classifier import reads, store
from classifier.answers import answer_for
from mlmodel.classes import CLASS_NAMES

from .helpers import cassandra_db, stored_prediction

pytestmark = cassandra_db


def text_of(page: str, element_id: str) -> str:
    """The text of the element with this id (tags dropped, spaces collapsed)."""
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</(h1|h2|p|div|section)>', page, re.S)
    assert found, f"no element #{element_id}"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found[1])).split())


def top_three(page: str) -> list[tuple[str, str]]:
    table = page.split('<table class="top">', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<th scope="row">([^<]+)</th>.*?<td class="share">([^<]+)</td>', table, re.S)


def result_page(client, prediction) -> str:
    response = client.get(prediction.get_absolute_url())
    assert response.status_code == 200
    return response.text


def test_a_sure_answer_is_the_class_name(client):
    prediction = stored_prediction({"Sneaker": 0.97, "Sandal": 0.02})
    page = result_page(client, prediction)

    assert text_of(page, "answer") == "Sneaker"
    assert "The model is sure: it gives a Sneaker a 97% chance." in page
    assert top_three(page)[:2] == [("Sneaker", "97%"), ("Sandal", "2%")]
    assert "<title>Sneaker · fashionsite</title>" in page
    assert "knows only these ten classes" not in page


def test_an_unsure_answer_says_probably_and_maybe(client, settings):
    settings.UNCERTAIN_BELOW = 0.6
    prediction = stored_prediction({"Shirt": 0.48, "T-shirt/top": 0.31, "Pullover": 0.12})
    page = result_page(client, prediction)

    assert text_of(page, "answer") == "Probably a Shirt, maybe a T-shirt/top or a Pullover"
    assert "The model is not sure: it gives a Shirt a 48% chance and a T-shirt/top 31%." in page
    assert top_three(page) == [("Shirt", "48%"), ("T-shirt/top", "31%"), ("Pullover", "12%")]
    # The same probabilities above the threshold are a sure answer: the words follow the setting.
    settings.UNCERTAIN_BELOW = 0.4
    page = result_page(client, prediction)
    assert text_of(page, "answer") == "Shirt"
    assert "Most likely, not certain: the model gives a Shirt a 48% chance and a T-shirt/top 31%." in page


def test_an_unlikely_third_class_is_not_mentioned_and_trousers_take_no_article(client):
    prediction = stored_prediction({"Trouser": 0.55, "Dress": 0.38, "Bag": 0.02})
    assert text_of(result_page(client, prediction), "answer") == "Probably Trousers, maybe a Dress"


def test_none_of_the_ten_says_so_and_lists_the_ten_classes(client):
    prediction = stored_prediction({"Bag": 0.81, "Sandal": 0.1}, none_of_the_ten=True, energy=-3.2)
    assert prediction.uncertain_reason == "none_of_the_ten"
    page = result_page(client, prediction)

    assert text_of(page, "answer") == "Probably none of the ten classes"
    assert "Its closest guess is a Bag (81%), not to be trusted." in page
    listed = page.split("knows only these ten classes:", 1)[1].split("</ul>", 1)[0]
    assert re.findall(r"<li>([^<]+)</li>", html.unescape(listed)) == list(CLASS_NAMES)


def test_predictions_from_before_the_energy_score_are_answered_by_their_probability(client):
    prediction = stored_prediction({"Coat": 0.93}, none_of_the_ten=None, energy=None)
    assert reads.find(prediction.id).none_of_the_ten is None
    assert text_of(result_page(client, prediction), "answer") == "Coat"


def test_near_certain_answers_never_say_100_percent(client):
    prediction = stored_prediction({"Bag": 0.9995})
    page = result_page(client, prediction)
    assert "it gives a Bag a more than 99% chance" in page and "100%" not in page.split("<details>")[0]


def upload(client, *files, **headers):
    return client.post(reverse("classifier:index"), {"images": list(files)}, headers=headers)


def png(test_image_pngs, n: int, name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, test_image_pngs[n][0], "image/png")


def test_the_results_page_shows_each_photo_in_upload_order_and_a_failed_one_in_place(client, test_image_pngs):
    files = [
        png(test_image_pngs, 0, "first.png"),
        SimpleUploadedFile("broken.jpg", b"\xff\xd8\xff not really a JPEG", "image/jpeg"),
        png(test_image_pngs, 1, "third.png"),
    ]
    response = upload(client, *files)
    assert response.status_code == 302
    page = client.get(response.url).text

    items = re.findall(r"<li( class=\"failed\")?>(.*?)</li>", page, re.S)
    assert len(items) == 3
    [first, broken, third] = [body for _, body in items]
    assert [failed for failed, _ in items] == ["", ' class="failed"', ""]
    assert "first.png" in first and "third.png" in third
    assert "Not classified: broken.jpg" in broken and "not a readable image" in broken
    assert "2 classified, 1 could not be." in page
    by_name = {prediction.filename: prediction for prediction in reads.latest()}
    for body, name in [(first, "first.png"), (third, "third.png")]:
        prediction = by_name[name]
        assert f'href="{prediction.get_absolute_url()}"' in body
        assert reverse("classifier:thumbnail", args=[prediction.id]) in body
        assert answer_for(prediction).headline in html.unescape(body)


def test_a_deleted_prediction_shows_as_deleted_on_the_results_page(client, test_image_pngs):
    response = upload(client, png(test_image_pngs, 0, "kept.png"), png(test_image_pngs, 1, "gone.png"))
    by_name = {prediction.filename: prediction for prediction in reads.latest()}
    store.delete(by_name["gone.png"])

    page = client.get(response.url).text
    assert "kept.png" in page and "This prediction has been deleted since." in page


@pytest.mark.parametrize(
    "token",
    ["nonsense", "WyJhYmMiXQ:1xYLOa:wrong-signature"],
    ids=["not-a-token", "bad-signature"],
)
def test_a_results_address_that_was_changed_is_404(client, token):
    response = client.get(reverse("classifier:batch", args=[token]))
    assert response.status_code == 404
    assert (
        "the address is incomplete or was changed" in response.text
        or "nothing at this address" in response.text
    )


def test_the_upload_card_gets_the_results_address_as_json(client, test_image_pngs):
    one = upload(client, png(test_image_pngs, 0, "one.png"), accept="application/json")
    assert one.status_code == 200
    [stored] = reads.latest()
    assert one.json() == {"url": stored.get_absolute_url()}

    several = upload(
        client, png(test_image_pngs, 1, "a.png"), png(test_image_pngs, 2, "b.png"), accept="application/json"
    )
    assert several.status_code == 200 and several.json()["url"].startswith("/results/")
    assert "a.png" in client.get(several.json()["url"]).text


def test_the_upload_card_gets_refusals_as_json_naming_each_file(client):
    response = upload(
        client,
        SimpleUploadedFile("empty.png", b"", "image/png"),
        SimpleUploadedFile("notes.png", b"words", "image/png"),
        accept="application/json",
    )
    assert response.status_code == 415
    body = response.json()
    assert body["error"]["code"] in {"empty", "not_image"}
    assert body["messages"][0] == "empty.png is empty."
    assert body["messages"][1].startswith("notes.png: The file is not a readable image")
    assert reads.latest() == []
