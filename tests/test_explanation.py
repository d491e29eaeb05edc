"""Why the model answered so: occlusion maps through the served model, mapped back onto the photo,
computed when a result is first viewed (not when uploaded), kept in Cassandra, drawn on the page."""

from __future__ import annotations

import io
import shutil
import uuid
from pathlib import Path

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from classifier import reads, store
from mlmodel import artifacts
from mlmodel.explanation import METHOD, OFFSETS, PATCH, garment_boxes, occluded_copies, occlusion
from mlmodel.predictor import get_predictor
from mlmodel.preprocessing import open_image, to_model_input

from .helpers import cassandra_db, stored_prediction

PHOTOS = Path(__file__).parent / "photos"


def probability_hidden_at(predictor, pixels: np.ndarray, centre, class_index: int) -> float:
    """The class's probability with a patch centred on `centre` hidden."""
    top = int(np.clip(centre[0] - PATCH // 2, 0, 28 - PATCH))
    left = int(np.clip(centre[1] - PATCH // 2, 0, 28 - PATCH))
    copy = pixels.copy()
    copy[top : top + PATCH, left : left + PATCH] = 0
    return predictor.classify(copy[np.newaxis])[0].probabilities[class_index]


def test_hiding_where_the_map_is_hottest_costs_the_answer_more_than_where_it_is_coldest(fashion_mnist):
    predictor = get_predictor()
    checked = 0
    for pixels in fashion_mnist.x_test[:20]:
        [answer] = predictor.classify(pixels[np.newaxis])
        made = occlusion(predictor, pixels, answer.label_index)
        assert made.sensitivity.shape == (28, 28)
        assert made.probability == pytest.approx(answer.confidence, abs=1e-6)
        copies = occluded_copies(pixels)
        assert len(copies) == 1 + len(OFFSETS) ** 2 == 65  # a few dozen passes, in one batch
        lowest = min(result.probabilities[answer.label_index] for result in predictor.classify(copies[1:]))
        assert made.lowest == pytest.approx(lowest, abs=1e-6)
        if made.probability - made.lowest < 0.1:
            continue  # nothing much to point at
        hot = np.unravel_index(np.argmax(made.sensitivity), made.sensitivity.shape)
        cold = np.unravel_index(np.argmin(made.sensitivity), made.sensitivity.shape)

        hidden_at_hot = probability_hidden_at(predictor, pixels, hot, answer.label_index)
        assert hidden_at_hot < probability_hidden_at(predictor, pixels, cold, answer.label_index)
        checked += 1
    assert checked >= 3


def product_photo(box: tuple[int, int, int, int], size=(400, 300), orientation: int | None = None) -> bytes:
    """A grey garment (a rectangle with a notch) on white, as a JPEG, stored turned when `orientation`."""
    image = Image.new("RGB", size, "white")
    left, top, right, bottom = box
    image.paste((70, 70, 80), (left, top, right, bottom))
    image.paste(
        "white", (left + (right - left) // 3, top, right - (right - left) // 3, top + (bottom - top) // 4)
    )
    exif = Image.Exif()
    if orientation is not None:
        image = image.transpose(Image.Transpose.ROTATE_90)  # EXIF 6 turns it back upright
        exif[0x0112] = orientation
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95, exif=exif)
    return buffer.getvalue()


@pytest.mark.parametrize("orientation", [None, 6], ids=["upright", "exif-rotated"])
def test_the_garment_box_in_the_photo_is_where_the_garment_is(orientation):
    box = (100, 60, 260, 280)  # in the upright 400x300 photo
    image = open_image(product_photo(box, orientation=orientation))
    decisions = to_model_input(image).decisions()
    upright_aspect = 400 / 300

    in_input, in_photo = garment_boxes(decisions, upright_aspect)
    expected = (100 / 400, 60 / 300, 260 / 400, 280 / 300)
    assert in_photo == pytest.approx(expected, abs=0.01)
    left, top, right, bottom = in_input
    assert (bottom - top) == 28 and 0 < left < right < 28  # taller than wide: full height, centred
    assert left == pytest.approx(28 - right, abs=1)


def test_an_input_used_as_it_is_covers_the_whole_photo():
    assert garment_boxes({"method": "as-is", "trimmed_box": None, "scaled_size": [28, 28]}, 1.0) == (
        (0, 0, 28, 28),
        (0.0, 0.0, 1.0, 1.0),
    )


def upload(client, name: str, data: bytes, content_type: str = "image/jpeg"):
    response = client.post(
        reverse("classifier:index"), {"images": [SimpleUploadedFile(name, data, content_type)]}
    )
    assert response.status_code == 302
    return reads.find(uuid.UUID(response.url.rstrip("/").rsplit("/", 1)[-1]))


def png_of(response) -> Image.Image:
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    return Image.open(io.BytesIO(response.content)).convert("RGB")


@cassandra_db
def test_a_result_explains_itself_when_viewed_and_keeps_the_map(client):
    shoes = next((PHOTOS / "shoes").glob("*.jpg"))
    prediction = upload(client, "shoes.jpg", shoes.read_bytes())
    assert reads.explanation_of(prediction.id) is None  # not on the upload path

    page = client.get(prediction.get_absolute_url()).text
    kept = reads.explanation_of(prediction.id)
    assert kept is not None and kept["method"] == METHOD and len(kept["sensitivity"]) == 28 * 28 * 2
    assert "Hiding the part that matters most (the reddest) lowers its probability from" in page or (
        "Hiding any one part of the picture barely changes the answer" in page
    )
    assert reverse("classifier:why_photo", args=[prediction.id]) in page
    assert reverse("classifier:why_input", args=[prediction.id]) in page
    assert '<svg class="outline"' in page  # the garment outline beside the heat map

    over_input = png_of(client.get(reverse("classifier:why_input", args=[prediction.id])))
    assert over_input.size == (140, 140)
    thumbnail = Image.open(io.BytesIO(reads.images_of(prediction.id).thumbnail_jpeg)).convert("RGB")
    over_photo = png_of(client.get(reverse("classifier:why_photo", args=[prediction.id])))
    assert over_photo.size == thumbnail.size

    # Coloured inside the garment's box, untouched outside it.
    _, (left, top, right, bottom) = garment_boxes(
        prediction.preprocessing_decisions, thumbnail.width / thumbnail.height
    )
    changed = np.abs(np.asarray(over_photo, np.int16) - np.asarray(thumbnail, np.int16)).max(axis=2) > 8
    width, height = thumbnail.size
    inside = np.zeros_like(changed)
    inside[round(top * height) : round(bottom * height), round(left * width) : round(right * width)] = True
    assert changed[inside].mean() > 0.05
    assert changed[~inside].mean() < 0.01


@cassandra_db
def test_the_kept_map_is_what_the_page_shows(client, test_image_pngs):
    prediction = upload(client, "boot.png", test_image_pngs[0][0], "image/png")
    flat = np.zeros((28, 28), "<f2").tobytes()  # a map in which nothing matters
    store.save_explanation(prediction.id, METHOD, flat, 0.9, 0.9)

    page = client.get(prediction.get_absolute_url()).text
    assert "Hiding any one part of the picture barely changes the answer" in page
    assert reads.explanation_of(prediction.id)["sensitivity"] == flat  # not recomputed


@cassandra_db
def test_a_prediction_of_an_earlier_model_version_is_explained_by_that_version(client, settings, tmp_path):
    shipped = artifacts.active_version(artifacts.DEFAULT_MODEL_DIR)
    for version in ("20250101-000000", "20250102-000000"):
        shutil.copytree(artifacts.DEFAULT_MODEL_DIR / shipped, tmp_path / version)
    artifacts.activate("20250102-000000", tmp_path)
    settings.MODEL_DIR = tmp_path
    pixels = np.zeros((28, 28), np.uint8)
    pixels[4:24, 9:19] = 220
    prediction = stored_prediction({"Trouser": 0.9}, model_input=pixels, model_version="20250101-000000")

    assert client.get(prediction.get_absolute_url()).status_code == 200
    assert reads.explanation_of(prediction.id) is not None


@cassandra_db
def test_a_prediction_whose_model_is_gone_says_so_and_its_pictures_are_404(client):
    prediction = stored_prediction({"Coat": 0.9}, model_version="20200101-000000")

    page = client.get(prediction.get_absolute_url())
    assert page.status_code == 200
    assert "The model version that made this prediction (20200101-000000) is no longer installed" in page.text
    assert reverse("classifier:why_input", args=[prediction.id]) not in page.text
    for name in ("classifier:why_input", "classifier:why_photo"):
        response = client.get(reverse(name, args=[prediction.id]), headers={"accept": "application/json"})
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_explainable"
    assert reads.explanation_of(prediction.id) is None


@cassandra_db
def test_deleting_a_prediction_deletes_its_map(client, test_image_pngs):
    prediction = upload(client, "boot.png", test_image_pngs[0][0], "image/png")
    client.get(prediction.get_absolute_url())
    assert reads.explanation_of(prediction.id) is not None

    store.delete(prediction)
    assert reads.explanation_of(prediction.id) is None
    assert client.get(reverse("classifier:why_input", args=[prediction.id])).status_code == 404
