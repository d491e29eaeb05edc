"""Hostile and odd uploads: every one gets a clear 4xx or a classification, never a 5xx or a half-written row."""

import io
import struct
import zlib

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st
from PIL import Image

from classifier import timeline
from classifier.recorder import MAX_FILENAME_LENGTH, clean_filename

from .helpers import cassandra_db

pytestmark = cassandra_db


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def garment(size=(120, 160)) -> Image.Image:
    """A dark coat-like shape on a white background, as in a product photo."""
    image = Image.new("L", size, 255)
    image.paste(40, (size[0] // 4, size[1] // 8, 3 * size[0] // 4, 7 * size[1] // 8))
    return image


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def decompression_bomb() -> bytes:
    """A few hundred bytes of PNG that claim 100,000 x 100,000 pixels."""
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\0" * 1000)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", pixels) + png_chunk(b"IEND", b"")


def animated_gif() -> bytes:
    frames = [garment(), Image.new("L", (120, 160), 128)]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)


def multi_frame_tiff() -> bytes:
    return encode(garment(), "TIFF", save_all=True, append_images=[garment()])


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'

REFUSED = {
    "empty": (b"", 400, "is empty"),
    "not an image": (b"%PDF-1.7 definitely a document", 415, "not a readable image"),
    "truncated": (encode(garment(), "JPEG")[:300], 415, "not a readable image"),
    "decompression bomb": (decompression_bomb(), 415, "more than 40,000,000 pixels"),
    "multi-frame TIFF": (multi_frame_tiff(), 415, "is a TIFF image; upload PNG, JPEG, GIF, WebP, BMP."),
    "SVG": (SVG, 415, "not a readable image"),
}

ACCEPTED = {
    "animated GIF (first frame)": animated_gif,
    "CMYK JPEG": lambda: encode(garment().convert("CMYK"), "JPEG"),
    "16-bit PNG": lambda: encode(Image.fromarray(np.asarray(garment(), np.uint16) * 257), "PNG"),
    "palette PNG": lambda: encode(garment().convert("P"), "PNG"),
    "RGBA PNG": lambda: encode(garment().convert("RGBA"), "PNG"),
    "1x1 PNG": lambda: encode(Image.new("L", (1, 1), 200), "PNG"),
    "absurd 20000x1": lambda: encode(Image.new("L", (20_000, 1), 30), "PNG"),
    "absurd 1x20000": lambda: encode(Image.new("L", (1, 20_000), 30), "BMP"),
}


def post(client, name: str, data: bytes, api: bool = False):
    if api:
        return client.post("/api/predictions", {"image": [SimpleUploadedFile(name, data)]})
    return client.post("/", {"images": [SimpleUploadedFile(name, data)]})


@pytest.mark.parametrize("api", [False, True], ids=["form", "api"])
@pytest.mark.parametrize("case", list(REFUSED))
def test_refused_with_a_clear_message_and_nothing_stored(client, case, api):
    data, status, message = REFUSED[case]
    response = post(client, "upload.bin", data, api=api)

    if api:  # the one item failed, so the whole request did
        assert response.status_code == 400
        assert message in response.json()["predictions"][0]["error"]["message"]
    else:
        assert response.status_code == status
        assert message in response.text
    assert timeline.latest() == []


@pytest.mark.parametrize("case", list(ACCEPTED))
def test_odd_but_valid_images_are_classified(client, case):
    response = post(client, "odd.img", ACCEPTED[case]())

    assert response.status_code == 302
    [stored] = timeline.latest()
    assert timeline.images_of(stored.id) is not None
    assert client.get(response.url).status_code == 200


def test_a_500_character_filename_is_stored_shortened_with_its_extension(client, test_image_pngs):
    response = post(client, "a" * 496 + ".png", test_image_pngs[0][0])

    assert response.status_code == 302
    [stored] = timeline.latest()
    assert stored.filename == "a" * 196 + ".png"
    assert client.get(response.url).status_code == 200


@pytest.mark.parametrize(
    ("name", "cleaned"),
    [
        ("a" * 496 + ".png", "a" * 196 + ".png"),
        ("../../" + "é" * 300 + ".jpeg", "é" * 195 + ".jpeg"),
        ("coat" + " " * 300 + "\x07.webp", "coat.webp"),  # the shortened stem loses its trailing spaces
        ("a" * 300 + "." + "b" * 40, "a" * 200),  # too long to be an extension
        ("a" * 300, "a" * 200),
        ("short.png", "short.png"),
        ("\x00\x1b", "upload"),
    ],
    ids=["extension", "directory", "spaces", "long-suffix", "no-suffix", "short", "nothing-left"],
)
def test_clean_filename_keeps_the_extension_within_200_characters(name, cleaned):
    assert clean_filename(name) == cleaned
    assert len(clean_filename(name)) <= MAX_FILENAME_LENGTH


def test_a_non_utf8_filename_gets_a_clear_400(client, test_image_pngs):
    # Django's multipart parser drops a part whose headers are not valid UTF-8, so the form sees no file.
    boundary = "fuzzboundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="images"; filename="'.encode()
        + b"caf\xe9 \xff\xfe.png"
        + b'"\r\nContent-Type: image/png\r\n\r\n'
        + test_image_pngs[1][0]
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = client.generic("POST", "/", body, content_type=f"multipart/form-data; boundary={boundary}")

    assert response.status_code == 400
    assert "Choose at least one image" in response.text
    assert timeline.latest() == []


@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.one_of(
        st.binary(max_size=2048),
        st.builds(
            lambda w, h, mode, fmt, seed: encode(
                Image.fromarray(np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)).convert(mode),
                fmt,
            ),
            st.integers(1, 64), st.integers(1, 64), st.sampled_from(["L", "RGB", "P"]),
            st.sampled_from(["PNG", "GIF", "BMP", "WEBP", "TIFF"]), st.integers(0, 2**32 - 1),
        ),
        st.builds(lambda image, cut: image[:cut], st.just(encode(garment(), "PNG")), st.integers(0, 400)),
    )
)
def test_fuzzed_uploads_never_crash_the_site(client, data):
    response = post(client, "fuzz.png", data)

    assert response.status_code in (302, 400, 413, 415), response.status_code
    if response.status_code == 302:
        assert client.get(response.url).status_code == 200
