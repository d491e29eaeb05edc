"""Hostile and odd uploads: every one gets a clear 4xx or a classification, never a 5xx or a
half-written row."""

import io
import struct
import zlib

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from PIL import Image

from classifier import reads
from classifier.uploads import MAX_FILENAME_LENGTH, clean_filename

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
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", pixels)
        + png_chunk(b"IEND", b"")
    )


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
    assert reads.latest() == []


@pytest.mark.parametrize("case", list(ACCEPTED))
def test_odd_but_valid_images_are_classified(client, case):
    response = post(client, "odd.img", ACCEPTED[case]())

    assert response.status_code == 302
    [stored] = reads.latest()
    assert reads.images_of(stored.id) is not None
    assert client.get(response.url).status_code == 200


def test_a_500_character_filename_is_stored_shortened_with_its_extension(client, test_image_pngs):
    response = post(client, "a" * 496 + ".png", test_image_pngs[0][0])

    assert response.status_code == 302
    [stored] = reads.latest()
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


def post_multipart(client, filename_parameter: bytes, data: bytes, api: bool = False):
    """One file part whose Content-Disposition ends in `filename_parameter`, sent byte for byte."""
    boundary = "fuzzboundary"
    field = "image" if api else "images"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '.encode()
        + filename_parameter
        + b"\r\nContent-Type: image/png\r\n\r\n"
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    content_type = f"multipart/form-data; boundary={boundary}"
    return client.generic("POST", "/api/predictions" if api else "/", body, content_type=content_type)


NON_UTF8_FILENAMES = {
    # latin-1 bytes and bytes that are never UTF-8, around HTML
    "quoted": (
        b'filename="<b onmouseover=alert(1)>caf\xe9 \xff\xfe.png"',
        "<b onmouseover=alert(1)>caf\ufffd \ufffd\ufffd.png",
    ),
    "only undecodable bytes": (b'filename="\x80\xff"', "\ufffd\ufffd"),
    # RFC 2231: percent-encoded bytes that are not UTF-8 (Django decodes these itself)
    "filename* percent-encoded": (b"filename*=UTF-8''caf%E9%FF.png", "caf\ufffd\ufffd.png"),
    # RFC 2231 forbids raw non-ASCII there: Python's email package turns the repaired "caf<U+FFFD>.png"
    # into the escape text "caf\\ufffd.png", and Django strips up to the backslash as a directory.
    "filename* raw bytes": (b"filename*=UTF-8''caf\xe9.png", "ufffd.png"),
    # Each byte grows to three once replaced: the header must still fit Django's header limit.
    "900 undecodable bytes": (b'filename="' + b"\xff" * 900 + b'.png"', "\ufffd" * 196 + ".png"),
}


@pytest.mark.parametrize("api", [False, True], ids=["form", "api"])
@pytest.mark.parametrize("case", list(NON_UTF8_FILENAMES))
def test_a_non_utf8_filename_is_classified_and_stored_safely(staff_client, test_image_pngs, case, api):
    filename_parameter, stored_as = NON_UTF8_FILENAMES[case]
    response = post_multipart(staff_client, filename_parameter, test_image_pngs[1][0], api=api)

    if api:
        assert response.status_code == 201, response.content
        [item] = response.json()["predictions"]
        assert item["filename"] == stored_as
        result_url = item["url"]
    else:
        assert response.status_code == 302, response.content
        result_url = response.url
    [stored] = reads.latest()
    assert stored.filename == stored_as
    assert reads.images_of(stored.id) is not None

    shown = escape(stored_as)
    pages = [
        staff_client.get(result_url),
        *([] if api else [staff_client.get("/")]),  # the home page lists the form's uploads of this visitor
        staff_client.get("/admin/classifier/prediction/"),
        staff_client.get(reverse("admin:classifier_prediction_change", args=[stored.id])),
    ]
    for page in pages:
        assert page.status_code == 200
        assert shown in page.text
        assert "<b onmouseover" not in page.text


@pytest.mark.parametrize("api", [False, True], ids=["form", "api"])
@pytest.mark.parametrize(
    "filename_parameter",
    [
        b"filename*=x-unknown''caf%E9.png",  # Django refuses an unknown RFC 2231 charset, and so the part
        b'filename="' + b"\xff" * 1100 + b'.png"',  # over Django's 1,024-byte limit for a part's headers
    ],
    ids=["unknown-charset", "headers-too-long"],
)
def test_filename_headers_django_refuses_get_a_400(client, test_image_pngs, filename_parameter, api):
    response = post_multipart(client, filename_parameter, test_image_pngs[1][0], api=api)

    assert response.status_code == 400
    if api:
        assert response.json()["error"]["message"]
    else:
        assert "Back to the upload form" in response.text or "Choose at least one image" in response.text
    assert reads.latest() == []


@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=st.binary(min_size=1, max_size=300), api=st.booleans())
@example(name=b"\r\n\r\n", api=False)
@example(name=b"\r\n\r\n", api=True)
def test_fuzzed_filename_bytes_never_crash_the_site(client, name, api):
    # CR LF in the name ends the part's headers early, so the rest of them becomes the file: 415.
    response = post_multipart(client, b'filename="' + name + b'"', encode(garment(), "PNG"), api=api)

    assert response.status_code in ((201, 400) if api else (302, 400, 415)), response.status_code
    if response.status_code in (201, 302):
        url = response.json()["predictions"][0]["url"] if api else response.url
        assert client.get(url).status_code == 200


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.one_of(
        st.binary(max_size=2048),
        st.builds(
            lambda w, h, mode, fmt, seed: encode(
                Image.fromarray(
                    np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)
                ).convert(mode),
                fmt,
            ),
            st.integers(1, 64),
            st.integers(1, 64),
            st.sampled_from(["L", "RGB", "P"]),
            st.sampled_from(["PNG", "GIF", "BMP", "WEBP", "TIFF"]),
            st.integers(0, 2**32 - 1),
        ),
        st.builds(lambda image, cut: image[:cut], st.just(encode(garment(), "PNG")), st.integers(0, 400)),
    )
)
def test_fuzzed_uploads_never_crash_the_site(client, data):
    response = post(client, "fuzz.png", data)

    assert response.status_code in (302, 400, 413, 415), response.status_code
    if response.status_code == 302:
        assert client.get(response.url).status_code == 200
