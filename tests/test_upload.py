"""Uploading through the form: classification, what is stored in Cassandra, and bad uploads."""

import io
import socket

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from classifier import cql, reads
from mlmodel.classes import CLASS_NAMES
from mlmodel.predictor import get_predictor

from .helpers import cassandra_db, png_bytes

pytestmark = cassandra_db


def upload(client, *files: SimpleUploadedFile):
    return client.post(reverse("classifier:index"), {"images": list(files)})


def stored_today() -> list:
    return reads.latest(limit=1000)


def test_upload_classifies_and_stores_everything(client, test_image_pngs):
    png, label = test_image_pngs[0]
    response = upload(client, SimpleUploadedFile("my ankle boot.png", png, "image/png"))

    assert response.status_code == 302
    [stored] = stored_today()
    assert response.url == f"/predictions/{stored.id}/"
    prediction = reads.find(stored.id)
    assert prediction.filename == "my ankle boot.png"
    assert prediction.label == CLASS_NAMES[label] == CLASS_NAMES[prediction.label_index]
    assert len(prediction.probabilities) == 10
    assert sum(prediction.probabilities) == pytest.approx(1, abs=1e-4)
    assert prediction.confidence == pytest.approx(max(prediction.probabilities))
    assert prediction.image_format == "PNG" and (prediction.image_width, prediction.image_height) == (28, 28)
    assert len(prediction.sha256) == 64 and prediction.model_version

    images = reads.images_of(stored.id)
    model_input = np.asarray(Image.open(io.BytesIO(images.model_input_png)))
    assert np.array_equal(model_input, np.asarray(Image.open(io.BytesIO(png))))
    assert Image.open(io.BytesIO(images.thumbnail_jpeg)).format == "JPEG"

    page = client.get(response.url)
    assert page.status_code == 200
    assert CLASS_NAMES[label] in page.text and "my ankle boot.png" in page.text
    chart = client.get(reverse("classifier:chart", args=[stored.id]))
    assert chart["Content-Type"] == "image/png" and Image.open(io.BytesIO(chart.content)).width > 300
    assert client.get(reverse("classifier:model_input", args=[stored.id])).content == images.model_input_png


def test_several_images_in_one_upload_get_a_results_page_of_exactly_those(client, test_image_pngs):
    upload(client, SimpleUploadedFile("earlier.png", test_image_pngs[5][0], "image/png"))
    files = [
        SimpleUploadedFile(f"item-{n}.png", png, "image/png")
        for n, (png, _) in enumerate(test_image_pngs[:3])
    ]
    response = upload(client, *files)

    assert response.status_code == 302 and response.url.startswith("/results/")
    results = client.get(response.url).text
    assert [results.index(f"item-{n}.png") for n in range(3)] == sorted(
        results.index(f"item-{n}.png") for n in range(3)
    )
    assert "earlier.png" not in results
    assert len(stored_today()) == 4


def test_uploaded_test_images_are_classified_at_least_90_percent_right(client, test_image_pngs):
    for start in range(0, len(test_image_pngs), 20):
        batch = test_image_pngs[start : start + 20]
        files = [
            SimpleUploadedFile(f"{start + n}-{label}.png", png, "image/png")
            for n, (png, label) in enumerate(batch)
        ]
        assert upload(client, *files).status_code == 302

    stored = stored_today()
    assert len(stored) == len(test_image_pngs)
    right = sum(p.label_index == int(p.filename.removesuffix(".png").split("-")[1]) for p in stored)
    assert right / len(stored) >= 0.90


def test_the_sites_requests_to_cassandra_leave_at_once(client, test_image_pngs):
    # Without TCP_NODELAY a phone photo's writes, a frame sent in parts, waited for the node's delayed
    # acknowledgement (Nagle's algorithm): 90 ms a phone upload on an idle site instead of 45.
    png, _ = test_image_pngs[0]
    assert upload(client, SimpleUploadedFile("a.png", png, "image/png")).status_code == 302
    session = cql.session()
    connections = [
        connection for pool in session._pools.values() for connection in pool._connections.values()
    ]
    assert connections
    for connection in connections:
        assert connection._socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


def test_the_int8_export_serves_uploads_when_configured(client, settings, test_image_pngs):
    settings.PREDICTOR_PRECISION = "int8"
    int8 = get_predictor(settings.MODEL_DIR, "int8")
    assert int8.precision == "int8"
    pngs = test_image_pngs[:10]
    files = [SimpleUploadedFile(f"{n}.png", png, "image/png") for n, (png, _) in enumerate(pngs)]
    assert upload(client, *files).status_code == 302

    stored = sorted(stored_today(), key=lambda prediction: int(prediction.filename.removesuffix(".png")))
    inputs = np.stack([np.asarray(Image.open(io.BytesIO(png))) for png, _ in pngs])
    served = np.array([prediction.probabilities for prediction in stored])
    np.testing.assert_allclose(served, [found.probabilities for found in int8.classify(inputs)], atol=1e-6)
    exact = get_predictor(settings.MODEL_DIR, "float").classify(inputs)
    # Not the float export's answers: the setting chose the int8 one.
    assert np.abs(served - [found.probabilities for found in exact]).max() > 1e-4


def photo_of(pixels: np.ndarray, fmt: str) -> bytes:
    """A Fashion-MNIST image as a product photo would be: big, RGB, dark garment on white."""
    image = Image.fromarray(255 - pixels).resize((280, 280), Image.Resampling.BICUBIC).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "GIF", "WEBP", "BMP"])
def test_every_accepted_format_is_classified(client, fashion_mnist, fmt):
    response = upload(
        client, SimpleUploadedFile(f"photo.{fmt.lower()}", photo_of(fashion_mnist.x_test[1], fmt))
    )

    assert response.status_code == 302
    [stored] = stored_today()
    assert stored.image_format == fmt
    assert reads.find(stored.id).preprocessing_decisions["inverted"] is True


@pytest.mark.parametrize(
    ("content", "status", "message"),
    [
        (b"this is a text file, not a picture", 415, "not a readable image"),
        (b"", 400, "bad.png is empty."),
        (png_bytes(np.zeros((28, 28), np.uint8))[:40], 415, "not a readable image"),
    ],
    ids=["text", "empty", "truncated"],
)
def test_bad_upload_gets_a_clear_error_and_stores_nothing(client, content, status, message):
    response = upload(client, SimpleUploadedFile("bad.png", content, "image/png"))

    assert response.status_code == status
    assert message in response.text
    assert stored_today() == []


def test_upload_without_a_file_asks_for_one(client):
    response = client.post(reverse("classifier:index"), {})

    assert response.status_code == 400
    assert "Choose at least one image to classify." in response.text


def test_one_bad_file_among_good_ones_is_answered_in_place_and_the_good_ones_stored(client, test_image_pngs):
    good = SimpleUploadedFile("good.png", test_image_pngs[0][0], "image/png")
    bad = SimpleUploadedFile("notes.png", b"GIF89a but not really", "image/png")
    response = upload(client, bad, good)

    assert response.status_code == 302
    results = client.get(response.url).text
    assert "notes.png: The file is not a readable image" in results
    assert results.index("notes.png") < results.index("good.png")
    assert [prediction.filename for prediction in stored_today()] == ["good.png"]


def test_unsupported_format_is_named(client, fashion_mnist):
    response = upload(client, SimpleUploadedFile("scan.tiff", photo_of(fashion_mnist.x_test[0], "TIFF")))

    assert response.status_code == 415
    assert "scan.tiff is a TIFF image; upload PNG, JPEG, GIF, WebP, BMP." in response.text
    assert stored_today() == []


def test_file_over_the_size_limit_is_refused(client, settings, test_image_pngs):
    settings.UPLOAD_MAX_BYTES = 100
    response = upload(client, SimpleUploadedFile("big.png", test_image_pngs[0][0], "image/png"))

    assert response.status_code == 413
    assert "big.png is" in response.text and "the limit is 100" in response.text
    assert stored_today() == []


def test_request_far_over_the_limit_is_refused_unread(client, settings):
    settings.UPLOAD_MAX_BYTES = 1000
    settings.UPLOAD_MAX_FILES = 2
    response = upload(client, SimpleUploadedFile("huge.png", b"\0" * 200_000, "image/png"))

    assert response.status_code == 413
    assert "The upload is too large" in response.text
    assert stored_today() == []


@pytest.mark.parametrize(
    ("sent", "stored_as"),
    [
        ("../../etc/passwd.png", "passwd.png"),
        ("C:\\Users\\me\\coat.png", "coat.png"),
        ("bell\x07.png", "bell.png"),
    ],
    ids=["posix-path", "windows-path", "control-character"],
)
def test_filename_is_stored_without_path_or_control_characters(client, test_image_pngs, sent, stored_as):
    assert upload(client, SimpleUploadedFile(sent, test_image_pngs[0][0], "image/png")).status_code == 302
    [stored] = stored_today()
    assert stored.filename == stored_as


def test_filename_with_html_is_shown_escaped(client, staff_client, test_image_pngs):
    name = "<img src=x onerror=alert(1)>.png"
    response = upload(client, SimpleUploadedFile(name, test_image_pngs[0][0], "image/png"))
    [stored] = stored_today()
    assert stored.filename == name

    pages = [
        client.get(response.url).text,
        client.get("/").text,
        staff_client.get("/admin/classifier/prediction/").text,
    ]
    for page in pages:
        assert "<img src=x onerror" not in page
        assert "&lt;img src=x onerror=alert(1)&gt;.png" in page


def test_unknown_prediction_is_404(client):
    assert client.get("/predictions/9d2c1a4e-0000-11f0-8000-000000000000/").status_code == 404
    assert client.get("/predictions/2f1b3c4d-5e6f-4a0b-8c9d-0e1f2a3b4c5d/").status_code == 404
