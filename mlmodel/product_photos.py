"""Product-photo renders of Fashion-MNIST images: uploads as users send them, made from test images
whose labels are known, to measure the upload preprocessing (bench/product_photos.py over the whole
test set, tests/test_mlmodel_product_photos.py on a sample).

Each image becomes a dark garment on a white background, enlarged smoothly to a few hundred pixels,
off centre in a wider frame, saved in one of the KINDS below (they take turns).
"""

import io

import numpy as np
from PIL import Image

from mlmodel.preprocessing import open_image, to_model_input

KINDS = ("rgb-jpeg", "rgba-png", "palette-png", "cmyk-jpeg", "16-bit-png", "exif-rotated-jpeg", "grey-png")
# Dark garment colours, as RGB.
_COLOURS = ((20, 20, 20), (25, 35, 80), (90, 20, 30), (30, 60, 35), (60, 60, 65), (70, 45, 25))


def render(pixels: np.ndarray, kind: str, rng: np.random.Generator) -> bytes:
    """A product photo of a Fashion-MNIST image (light garment on black, 28x28), as file bytes."""
    garment_height = int(rng.integers(300, 700))
    # Fashion-MNIST's long edge fills the frame, so the garment's own margins are kept as they are.
    garment = Image.fromarray(pixels).resize((garment_height, garment_height), Image.Resampling.BICUBIC)
    coverage = np.asarray(garment, dtype=np.float64) / 255  # 0: background, 1: garment at full strength

    margins = (rng.uniform(0.05, 0.6, size=4) * garment_height).astype(int)  # left, top, right, bottom
    width = garment_height + margins[0] + margins[2]
    height = garment_height + margins[1] + margins[3]
    canvas = np.zeros((height, width))
    canvas[margins[1] : margins[1] + garment_height, margins[0] : margins[0] + garment_height] = coverage

    colour = np.array(_COLOURS[rng.integers(len(_COLOURS))], dtype=np.float64)
    rgb = 255 - canvas[..., np.newaxis] * (255 - colour)
    rgb += rng.normal(0, 1.5, size=rgb.shape)  # sensor noise
    rgb = np.clip(np.round(rgb), 0, 255).astype(np.uint8)
    photo = Image.fromarray(rgb)

    if kind == "rgb-jpeg":
        return _encode(photo, "JPEG", quality=int(rng.integers(80, 96)))
    if kind == "rgba-png":
        # Cut out: transparent where there is no garment, whatever colour lies underneath.
        alpha = np.clip(np.round(canvas * 4 * 255), 0, 255).astype(np.uint8)
        rgba = np.dstack([np.where(alpha[..., np.newaxis] > 0, rgb, 0), alpha])
        return _encode(Image.fromarray(rgba), "PNG")
    if kind == "palette-png":
        return _encode(photo.quantize(256), "PNG")
    if kind == "cmyk-jpeg":
        return _encode(photo.convert("CMYK"), "JPEG", quality=90)
    if kind == "16-bit-png":
        grey = np.asarray(photo.convert("L"), dtype=np.uint16) * 257
        return _encode(Image.fromarray(grey), "PNG")
    if kind == "exif-rotated-jpeg":
        # Stored on its side as cameras do; orientation 6 says: turn 90 degrees clockwise to view.
        exif = Image.Exif()
        exif[0x0112] = 6
        return _encode(photo.rotate(90, expand=True), "JPEG", quality=90, exif=exif)
    if kind == "grey-png":
        return _encode(photo.convert("L"), "PNG")
    raise ValueError(f"unknown kind {kind!r}")


def _encode(image: Image.Image, format: str, **options) -> bytes:
    if format == "PNG":
        options["compress_level"] = 1  # lossless either way; the default level is several times slower
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def kind_of(index: int) -> str:
    """The kind of photo that test image number index is rendered as: they take turns."""
    return KINDS[index % len(KINDS)]


def model_input(index: int, pixels: np.ndarray, seed: int = 0) -> np.ndarray:
    """The preprocessed 28x28 input of the render of test image number index."""
    rng = np.random.default_rng([seed, index])  # per image, so the order of work does not matter
    return to_model_input(open_image(render(pixels, kind_of(index), rng))).pixels
