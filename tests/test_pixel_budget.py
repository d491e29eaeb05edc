"""A budget of decoded pixels per request: small files that decode to huge flat pictures are refused
from their headers, before any is decoded, with a 413 naming the limit; within the budget, pictures
are decoded one at a time."""

import io
from functools import cache

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from classifier import reads

from .helpers import cassandra_db

pytestmark = cassandra_db

SIDE = 6300  # 39.7 million pixels: under the 40 million allowed for one picture


@cache
def flat_png(shade: int) -> bytes:
    """A flat grey picture of SIDE x SIDE pixels: a few hundred KB as a PNG."""
    buffer = io.BytesIO()
    Image.new("L", (SIDE, SIDE), shade).save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def files(count: int, shades: int = 1) -> list[SimpleUploadedFile]:
    return [SimpleUploadedFile(f"flat-{n}.png", flat_png(n % shades), "image/png") for n in range(count)]


@pytest.mark.parametrize("api", [True, False], ids=["api", "form"])
def test_twenty_flat_pictures_in_one_request_are_refused_naming_the_limit(client, api):
    assert 20 * len(flat_png(0)) < 10_000_000  # small files: the byte limits pass them
    if api:
        response = client.post("/api/predictions", {"image": files(20)})
        assert response.status_code == 413
        error = response.json()["error"]
        assert error["code"] == "too_many_pixels"
        message = error["message"]
    else:
        response = client.post("/", {"images": files(20)})
        assert response.status_code == 413
        message = response.context["form"].errors["images"][0]
    assert "793.8 million pixels" in message and "at most 100 million" in message
    assert reads.latest() == []


def test_the_budget_is_a_setting(client, settings):
    settings.UPLOAD_MAX_REQUEST_PIXELS = 50_000_000
    response = client.post("/api/predictions", {"image": files(2)})
    assert response.status_code == 413 and "at most 50 million" in response.json()["error"]["message"]


def test_pictures_within_the_budget_are_classified(client):
    response = client.post("/api/predictions", {"image": files(2, shades=2)})
    assert response.status_code == 201
    assert [item["filename"] for item in response.json()["predictions"]] == ["flat-0.png", "flat-1.png"]
    assert {(p.image_width, p.image_height) for p in reads.latest()} == {(SIDE, SIDE)}
