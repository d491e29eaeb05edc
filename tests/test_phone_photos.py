"""Real phone photos through the site: what is stored, the outline on the result and admin pages.

The photos are the CC0 ones shipped in tests/photos (from the development set), so these tests run
where ../shared is missing too.
"""

import datetime
import io
import json
import re
import uuid
from pathlib import Path

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from classifier import corrections, explanations, reads, store
from mlmodel.classes import CLASS_NAMES
from mlmodel.clothing_photos import list_photos

from .helpers import cassandra_db, png_bytes

pytestmark = cassandra_db

PHOTOS_DIR = Path(__file__).parent / "photos"
PHOTOS = list_photos(PHOTOS_DIR)
SHOES = next(photo for photo in PHOTOS if photo.folder == "shoes")
# A long-sleeved top laid flat with its arms out (tune split): a garment far wider than tall.
WIDE_TOP = PHOTOS_DIR / "longsleeve" / "0d3b1b5a-3d8d-406f-b953-5b506b8f5665.jpg"


def _upload(client, name: str, data: bytes, content_type: str = "image/jpeg"):
    response = client.post(
        reverse("classifier:index"), {"images": [SimpleUploadedFile(name, data, content_type)]}
    )
    assert response.status_code == 302, response.content[:500]
    return reads.find(uuid.UUID(response.url.rstrip("/").rsplit("/", 1)[-1])), response.url


def _phone_jpeg(photo: Path, size: tuple[int, int], orientation: int | None = None) -> bytes:
    """A large JPEG of a real photo, stored sideways with an EXIF orientation as phones do."""
    image = Image.open(photo).convert("RGB").resize(size, Image.Resampling.BICUBIC)
    exif = Image.Exif()
    if orientation is not None:
        image = image.transpose(Image.Transpose.ROTATE_90)  # stored turned; EXIF 6 turns it back
        exif[0x0112] = orientation
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, exif=exif)
    return buffer.getvalue()


def test_a_phone_photo_is_cut_out_and_its_outline_shown(client):
    prediction, url = _upload(client, "IMG_0001.jpg", SHOES.path.read_bytes())
    decisions = json.loads(prediction.preprocessing)
    assert decisions["method"] == "grabcut" and decisions["inverted"] is True
    segmentation = decisions["segmentation"]
    assert 0.05 < segmentation["mask_share"] < 0.95
    assert len(segmentation["outline"]) >= 4

    page = client.get(url)
    assert page.status_code == 200
    assert '<svg class="outline"' in page.text and "<polygon points=" in page.text
    assert "the garment outlined" in page.text
    pixels = np.asarray(Image.open(io.BytesIO(reads.images_of(prediction.id).model_input_png)))
    assert pixels.shape == (28, 28) and pixels.max() == 255


def test_a_fashion_mnist_image_has_no_outline(client, test_image_pngs):
    png, _ = test_image_pngs[0]
    prediction, url = _upload(client, "boot.png", png, "image/png")
    assert "segmentation" not in json.loads(prediction.preprocessing)
    assert "<polygon" not in client.get(url).text


def test_a_12_megapixel_photo_keeps_its_size_and_its_thumbnail_is_upright(client):
    data = _phone_jpeg(SHOES.path, (3024, 4032), orientation=6)
    prediction, _ = _upload(client, "IMG_0002.jpg", data)
    # The stored size is the file's own, though it was decoded at 1/8 of it.
    assert (prediction.image_width, prediction.image_height) == (4032, 3024)
    assert json.loads(prediction.preprocessing)["exif_transposed"] is True
    thumbnail = Image.open(io.BytesIO(reads.images_of(prediction.id).thumbnail_jpeg))
    assert thumbnail.height > thumbnail.width  # shown as the phone took it: portrait
    assert max(thumbnail.size) == 160


def test_admin_detail_shows_the_outline_and_what_segmentation_decided(client, staff_client):
    prediction, _ = _upload(client, "IMG_0003.jpg", SHOES.path.read_bytes())
    detail = staff_client.get(reverse("admin:classifier_prediction_change", args=[prediction.id]))
    assert detail.status_code == 200
    assert "<polygon points=" in detail.text
    assert "Garment share of the photo" in detail.text and "Pair split" in detail.text
    assert "Second look" in detail.text
    assert "None of the ten classes?" in detail.text
    assert re.search(r"energy score -?\d+\.\d{3}, photo familiarity -?\d+\.\d{2}", detail.text)


def test_api_says_a_hat_is_probably_none_of_the_ten_and_a_shirt_is_a_shirt(client):
    # Held-out photos (mlmodel.clothing_photos): the photo detector was not fitted on them.
    hat = PHOTOS_DIR / "hat" / "127708b5-72ad-4793-9512-3d33427459bb.jpg"
    shirt = PHOTOS_DIR / "shirt" / "005d3a4d-b8cc-4f14-a288-8065ab797974.jpg"
    answers = {}
    for photo in (hat, shirt):
        upload = SimpleUploadedFile(photo.name, photo.read_bytes(), "image/jpeg")
        response = client.post("/api/predictions", {"image": upload})
        assert response.status_code == 201
        [answers[photo.parent.name]] = response.json()["predictions"]
    assert answers["hat"]["uncertain"] is True
    assert answers["hat"]["uncertain_reason"] == "none_of_the_ten"
    assert answers["shirt"]["label"] == "Shirt"
    assert answers["shirt"]["uncertain"] is False
    assert answers["shirt"]["uncertain_reason"] is None


def test_a_long_sleeved_top_laid_flat_with_its_arms_out_is_upper_body_clothing(client, staff_client):
    # A tune photo (CC0): its cut-out is far wider than tall, which no Fashion-MNIST top is; taken
    # alone at its aspect it was answered Ankle boot, with the squeezed second look T-shirt/top.
    prediction, url = _upload(client, WIDE_TOP.name, WIDE_TOP.read_bytes())
    assert json.loads(prediction.preprocessing)["segmentation"]["second_look"] is True
    assert prediction.label in ("T-shirt/top", "Pullover", "Shirt", "Coat")
    assert not prediction.none_of_the_ten

    # Both looks are kept and shown: the garment at its own aspect, and squeezed to fill the square.
    second_look_url = reverse("classifier:second_look", args=[prediction.id])
    assert second_look_url in client.get(url).text
    detail = staff_client.get(reverse("admin:classifier_prediction_change", args=[prediction.id]))
    assert second_look_url in detail.text
    first = _grey(client.get(reverse("classifier:model_input", args=[prediction.id])))
    second = _grey(client.get(second_look_url))
    assert first.shape == second.shape == (28, 28)
    assert _rows_and_columns_lit(first)[0] < _rows_and_columns_lit(first)[1]
    assert _rows_and_columns_lit(second)[0] > _rows_and_columns_lit(first)[0] + 4

    # Its heat map explains the answer as it was given: with nothing hidden, the probability is the
    # confidence shown, which the two looks made together.
    assert explanations.explanation(prediction).probability == pytest.approx(prediction.confidence, abs=1e-4)


def test_a_corrected_wide_garment_teaches_both_of_its_looks(client):
    prediction, _ = _upload(client, WIDE_TOP.name, WIDE_TOP.read_bytes())
    store.correct(prediction.id, "Shirt", "staff", datetime.datetime.now(datetime.UTC))

    examples = corrections.corrected_examples()

    images = reads.images_of(prediction.id)
    by_source = dict(zip(examples.sources, zip(examples.images, examples.labels)))
    assert set(by_source) == {str(prediction.id), f"{prediction.id} second look"}
    for source, png in (
        (str(prediction.id), images.model_input_png),
        (f"{prediction.id} second look", images.second_look_png),
    ):
        pixels, label = by_source[source]
        assert np.array_equal(pixels, np.asarray(Image.open(io.BytesIO(png))))
        assert CLASS_NAMES[label] == "Shirt"


def _grey(response) -> np.ndarray:
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.mode == "L"
    return np.asarray(image)


def _rows_and_columns_lit(pixels: np.ndarray) -> tuple[int, int]:
    """How many rows and how many columns of a model input the garment reaches."""
    lit = pixels > 0
    return int(lit.any(axis=1).sum()), int(lit.any(axis=0).sum())


def test_a_grey_picture_is_never_segmented(client):
    # An enlarged Fashion-MNIST-like picture on black: the product-photo path, no outline.
    pixels = np.zeros((300, 300), np.uint8)
    pixels[40:260, 90:210] = 200
    prediction, url = _upload(client, "plain.png", png_bytes(pixels), "image/png")
    assert json.loads(prediction.preprocessing)["method"] == "product-photo"
    second_look_url = reverse("classifier:second_look", args=[prediction.id])
    assert second_look_url not in client.get(url).text
    assert client.get(second_look_url).status_code == 404
