import io
import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mlmodel.predictor import get_predictor
from mlmodel.preprocessing import (
    MAX_PIXELS,
    WORKING_SIZE,
    InvalidImage,
    ModelInput,
    open_image,
    to_model_input,
)

REPO = Path(__file__).resolve().parents[1]
SAMPLE = 60  # test images rendered in each of the ways below


@pytest.fixture(scope="module")
def test_set(fashion_mnist):
    dataset = fashion_mnist
    return dataset.x_test, dataset.y_test


def encode(image: Image.Image, format: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def test_fashion_mnist_test_images_pass_through_unchanged(test_set):
    images, _ = test_set
    for index, pixels in enumerate(images):
        # Decoding from bytes is the slow part, so only every tenth image takes that path.
        image = open_image(encode(Image.fromarray(pixels))) if index % 10 == 0 else Image.fromarray(pixels)
        model_input = to_model_input(image)
        assert model_input.pixels.dtype == np.uint8
        assert np.array_equal(model_input.pixels, pixels), index
        assert not model_input.inverted
        assert model_input.trimmed_box is None


def test_inverted_28x28_test_images_come_back_exactly(test_set):
    images, _ = test_set
    for pixels in images[:1000]:
        model_input = to_model_input(Image.fromarray(255 - pixels))
        assert model_input.inverted
        assert np.array_equal(model_input.pixels, pixels)


def _upscaled(pixels: np.ndarray, *, dark_on_white: bool) -> np.ndarray:
    """An 8x nearest-neighbour enlargement, like a bigger product photo of the same garment."""
    big = np.kron(pixels, np.ones((8, 8), dtype=np.uint8))
    return 255 - big if dark_on_white else big


def _render(pixels: np.ndarray, kind: str) -> bytes:
    if kind == "upscaled":
        return encode(Image.fromarray(_upscaled(pixels, dark_on_white=False)))
    photo = _upscaled(pixels, dark_on_white=True)  # dark garment on white, like a product photo
    if kind == "dark-garment-on-white":
        return encode(Image.fromarray(photo))
    if kind == "rgb-jpeg":
        tint = np.stack([photo, np.maximum(photo, 40), np.minimum(photo, 230)], axis=-1)
        return encode(Image.fromarray(tint), "JPEG", quality=92)
    if kind == "rgba-transparent-background":
        # Transparent pixels are black underneath: ignoring alpha would see a dark background.
        garment = _upscaled(pixels, dark_on_white=False) > 0
        rgba = np.zeros(photo.shape + (4,), dtype=np.uint8)
        rgba[..., :3] = np.where(garment, photo, 0)[..., np.newaxis]
        rgba[..., 3] = np.where(garment, 255, 0)
        return encode(Image.fromarray(rgba))
    if kind == "palette":
        return encode(Image.fromarray(photo).convert("RGB").quantize(64))
    if kind == "cmyk-tiff":
        return encode(Image.fromarray(photo).convert("RGB").convert("CMYK"), "TIFF")
    if kind == "16-bit":
        return encode(Image.fromarray(photo.astype(np.uint16) * 257))
    if kind == "exif-rotated":
        # Stored on its side; EXIF orientation 6 tells viewers to turn it 90 degrees clockwise.
        exif = Image.Exif()
        exif[0x0112] = 6
        return encode(Image.fromarray(photo).rotate(90, expand=True), "JPEG", quality=95, exif=exif)
    raise AssertionError(kind)


@pytest.mark.parametrize(
    ("kind", "mode", "inverted"),
    [
        ("upscaled", "L", False),
        ("dark-garment-on-white", "L", True),
        ("rgb-jpeg", "RGB", True),
        ("rgba-transparent-background", "RGBA", True),
        ("palette", "P", True),
        ("cmyk-tiff", "CMYK", True),
        ("16-bit", "I;16", True),
        ("exif-rotated", "L", True),
    ],
)
def test_renderings_of_test_images_become_inputs_close_to_the_originals(test_set, kind, mode, inverted):
    images, labels = test_set
    originals, expected = images[:SAMPLE], labels[:SAMPLE]
    inputs = []
    for pixels in originals:
        image = open_image(_render(pixels, kind))
        assert image.mode == mode
        model_input = to_model_input(image)
        assert model_input.pixels.shape == (28, 28)
        assert model_input.pixels.dtype == np.uint8
        assert model_input.inverted is inverted
        assert model_input.exif_transposed is (kind == "exif-rotated")
        inputs.append(model_input.pixels)

    correlations = [np.corrcoef(a.ravel(), b.ravel())[0, 1] for a, b in zip(inputs, originals)]
    assert np.median(correlations) > 0.95
    predicted = [c.label_index for c in get_predictor().classify(np.stack(inputs))]
    assert np.mean(np.array(predicted) == expected) >= 0.85


def test_one_bit_silhouette_is_inverted_and_trimmed(test_set):
    pixels = test_set[0][1]  # a pullover
    # Black garment on white, one bit per pixel.
    silhouette = Image.fromarray(_upscaled(pixels, dark_on_white=True) >= 200).convert("1")
    model_input = to_model_input(open_image(encode(silhouette)))
    assert model_input.inverted
    assert model_input.trimmed_box is not None
    garment = model_input.pixels > 127
    assert np.corrcoef(garment.ravel(), (pixels > 55).ravel())[0, 1] > 0.85


def test_grey_background_becomes_black_and_garment_is_centred():
    # A light garment photographed on a mid-grey backdrop, off centre in a wide frame.
    photo = np.full((300, 600), 90, dtype=np.uint8)
    photo[50:250, 80:180] = 230
    model_input = to_model_input(Image.fromarray(photo))
    assert not model_input.inverted
    assert model_input.background_level == 90
    assert model_input.trimmed_box == (80, 50, 180, 250)
    assert model_input.scaled_size == (14, 28)
    columns = np.flatnonzero(model_input.pixels.max(axis=0) > 0)
    assert (columns[0], columns[-1]) == (7, 20)  # centred: 7 black columns either side
    garment = model_input.pixels[:, 7:21]
    assert model_input.peak_level == 230 - 90  # the backdrop went to 0 ...
    assert (garment == 255).all()  # ... and the garment, the brightest level, to 255 as in Fashion-MNIST
    assert (model_input.pixels[:, :7] == 0).all()


def test_animated_image_uses_its_first_frame(test_set):
    first, second = (Image.fromarray(test_set[0][i]) for i in (0, 1))
    data = encode(first, "GIF", save_all=True, append_images=[second], duration=100)
    model_input = to_model_input(open_image(data))
    assert np.array_equal(model_input.pixels, test_set[0][0])


def test_decisions_are_json_and_png_is_the_exact_input(test_set):
    model_input = to_model_input(open_image(_render(test_set[0][0], "rgb-jpeg")))
    decisions = json.loads(json.dumps(model_input.decisions()))
    assert decisions["inverted"] is True
    assert decisions["source_size"] == [224, 224]
    assert max(decisions["scaled_size"]) == 28
    assert len(decisions["trimmed_box"]) == 4
    png = Image.open(io.BytesIO(model_input.png()))
    assert (png.format, png.mode, png.size) == ("PNG", "L", (28, 28))
    assert np.array_equal(np.asarray(png), model_input.pixels)


def test_model_input_is_read_only(test_set):
    model_input = to_model_input(Image.fromarray(test_set[0][0]))
    assert isinstance(model_input, ModelInput)
    with pytest.raises(ValueError):
        model_input.pixels[0, 0] = 1


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares a size but holds no pixels: enough to trip size checks."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def _truncated_png() -> bytes:
    noise = np.random.default_rng(0).integers(0, 256, size=(200, 200), dtype=np.uint8)
    data = encode(Image.fromarray(noise))
    return data[: len(data) // 2]


def _png_with_bad_checksum() -> bytes:
    data = bytearray(encode(Image.fromarray(np.zeros((40, 40), dtype=np.uint8))))
    data[29] ^= 0xFF  # the IHDR chunk's CRC
    return bytes(data)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"GIF89a but not really an image", id="garbage"),
        pytest.param(np.random.default_rng(1).bytes(5000), id="random-bytes"),
        pytest.param(_truncated_png(), id="truncated-png"),
        pytest.param(_png_with_bad_checksum(), id="bad-checksum"),
        pytest.param(encode(Image.new("RGB", (300, 300), "white"), "JPEG")[:400], id="truncated-jpeg"),
    ],
)
def test_unreadable_data_is_rejected(data):
    with pytest.raises(InvalidImage, match="not a readable image"):
        open_image(data)


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (MAX_PIXELS // 4000 + 1, 4000),  # just over our limit, well under Pillow's
        (10_000, 10_000),  # where Pillow warns of a decompression bomb
        (30_000, 30_000),  # where Pillow refuses
    ],
)
def test_images_with_too_many_pixels_are_rejected(width, height):
    with pytest.raises(InvalidImage, match="not a readable image"):
        open_image(_png_header_only(width, height))


def test_a_large_photo_within_the_limit_is_accepted():
    photo = Image.new("RGB", (4000, 3000), "white")
    photo.paste((30, 30, 30), (1000, 500, 3000, 2500))
    model_input = to_model_input(open_image(encode(photo)))
    assert model_input.inverted
    # Found on a copy reduced to WORKING_SIZE, the box is exact to within one of its pixels.
    reduction = 3000 / WORKING_SIZE
    assert np.allclose(model_input.trimmed_box, (1000, 500, 3000, 2500), atol=reduction)
    assert (model_input.pixels[1:27, 1:27] > 200).all()


def test_decoded_pixels_counts_a_jpeg_at_its_reduced_size_and_others_in_full():
    from mlmodel.preprocessing import decoded_pixels

    def encoded(size, fmt):
        buffer = io.BytesIO()
        Image.new("RGB", size, "white").save(buffer, fmt)
        return buffer.getvalue()

    jpeg, png = encoded((4000, 3000), "JPEG"), encoded((4000, 3000), "PNG")
    assert decoded_pixels(jpeg) == open_image(jpeg).width * open_image(jpeg).height == 500 * 375
    assert decoded_pixels(png) == 4000 * 3000
    assert decoded_pixels(b"not an image") == 0
