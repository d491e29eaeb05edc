"""Turning an uploaded picture into a 28x28 Fashion-MNIST model input.

Fashion-MNIST was made from product photos on white backgrounds: trim the edges
close to the corner colour, resize the longest edge to 28, centre on a 28x28
canvas, negate and convert to 8-bit grey, its brightest pixel at 255.
``to_model_input`` follows the same steps so that a photo of a garment looks to
the network like its training data.
"""

import io
import math
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import ExifTags, Image, ImageOps

from mlmodel.data import IMAGE_SIZE

MAX_PIXELS: int = 40_000_000

# Fashion-MNIST trimmed with a 5% colour tolerance.
_TRIM_TOLERANCE = round(0.05 * 255)
# A row or column is kept when at least this share of it is away from the
# background colour, so scattered noise (JPEG artefacts, dust) does not stop the trim.
_TRIM_MIN_SHARE = 1 / 200
_EIGHT_BIT_MODES_WITH_ALPHA = ("RGBA", "RGBa", "LA", "La", "PA")


class InvalidImage(ValueError):
    """The upload cannot be used as an image; the message is meant for the user."""


@dataclass(frozen=True, eq=False)
class ModelInput:
    """A 28x28 model input and what was decided to make it."""

    pixels: np.ndarray
    inverted: bool
    trimmed_box: tuple[int, int, int, int] | None
    source_size: tuple[int, int] = (IMAGE_SIZE, IMAGE_SIZE)
    source_mode: str = "L"
    exif_transposed: bool = False
    background_level: int = 0
    scaled_size: tuple[int, int] = (IMAGE_SIZE, IMAGE_SIZE)
    peak_level: int | None = None  # the brightest level after resizing, stretched to 255; None: not resized

    def decisions(self) -> dict[str, object]:
        """A JSON-serialisable summary of the preprocessing decisions."""
        return {
            "source_size": list(self.source_size),
            "source_mode": self.source_mode,
            "exif_transposed": self.exif_transposed,
            "inverted": self.inverted,
            "background_level": self.background_level,
            "trimmed_box": list(self.trimmed_box) if self.trimmed_box else None,
            "scaled_size": list(self.scaled_size),
            "peak_level": self.peak_level,
        }

    def png(self) -> bytes:
        """The exact 28x28 input as 8-bit greyscale PNG bytes."""
        buffer = io.BytesIO()
        Image.fromarray(self.pixels).save(buffer, format="PNG")
        return buffer.getvalue()


def open_image(data: bytes) -> Image.Image:
    """Verify and fully load an image (the first frame if animated).

    Raises InvalidImage for empty, unrecognised, damaged or truncated data and for
    images of more than MAX_PIXELS pixels.
    """
    if not data:
        raise InvalidImage("The file is empty: not a readable image.")
    too_large = f"The image has more than {MAX_PIXELS:,} pixels: not a readable image."
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its own limit and twice that; refuse those too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.width * probe.height > MAX_PIXELS:
                    raise InvalidImage(too_large)
                probe.verify()
            # verify() leaves the image unusable, so it is opened again to decode.
            image = Image.open(io.BytesIO(data))
            image.load()
    except InvalidImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise InvalidImage(too_large) from error
    except Image.UnidentifiedImageError as error:
        raise InvalidImage("The file is not a readable image: its format is not recognised.") from error
    # Pillow's decoders raise many exception types on malformed input.
    except Exception as error:
        raise InvalidImage("The file is not a readable image: it is damaged or truncated.") from error
    return image


def to_model_input(image: Image.Image) -> ModelInput:
    """Preprocess an image the way Fashion-MNIST was made.

    EXIF transpose; flatten transparency onto white; convert to 8-bit grey; invert
    when the corners are light (garments must be light on black); trim rows and
    columns close to the corner colour; subtract the corner colour; resize the
    longest edge to 28 (Lanczos); centre on a black 28x28 canvas; stretch the
    brightest level to 255.

    A 28x28 image with a dark background is already a model input: its pixels are
    used unchanged (after inversion, if its background was light).
    """
    source_size, source_mode = image.size, image.mode
    exif_transposed = image.getexif().get(ExifTags.Base.Orientation, 1) != 1
    grey = _to_grey(ImageOps.exif_transpose(image))

    background = _corner_level(grey)
    inverted = background > 127
    if inverted:
        grey = 255 - grey
        background = 255 - background

    details = {"source_size": source_size, "source_mode": source_mode, "exif_transposed": exif_transposed}
    if grey.shape == (IMAGE_SIZE, IMAGE_SIZE):
        return ModelInput(pixels=_read_only(grey), inverted=inverted, trimmed_box=None, **details)

    trimmed_box = _trim_box(grey, background)
    if trimmed_box is not None:
        left, upper, right, lower = trimmed_box
        grey = grey[upper:lower, left:right]
    grey = _remove_background_level(grey, background)

    height, width = grey.shape
    scale = IMAGE_SIZE / max(width, height)
    scaled_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    scaled = Image.fromarray(grey).resize(scaled_size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    canvas = Image.new("L", (IMAGE_SIZE, IMAGE_SIZE), 0)
    # Fashion-MNIST puts the odd leftover pixel before the garment, not after it.
    offset = ((IMAGE_SIZE - scaled_size[0] + 1) // 2, (IMAGE_SIZE - scaled_size[1] + 1) // 2)
    canvas.paste(scaled, offset)
    pixels = np.asarray(canvas)
    # Every Fashion-MNIST image reaches 254 or 255: a garment dimmed by its colour or the
    # light must be brightened the same way to look like the training data.
    peak_level = int(pixels.max())
    if 0 < peak_level < 255:
        pixels = np.round(pixels * (255 / peak_level)).astype(np.uint8)
    return ModelInput(
        pixels=_read_only(pixels),
        inverted=inverted,
        trimmed_box=trimmed_box,
        background_level=background,
        scaled_size=scaled_size,
        peak_level=peak_level,
        **details,
    )


def _to_grey(image: Image.Image) -> np.ndarray:
    """8-bit grey pixels (height, width); transparent areas become white."""
    if image.mode in _EIGHT_BIT_MODES_WITH_ALPHA or "transparency" in image.info:
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, image.convert("RGBA")).convert("L"))
    if image.mode.startswith("I;16"):
        # Pillow's convert("L") clips 16-bit values instead of scaling them.
        return np.round(np.asarray(image, dtype=np.float64) / 257).astype(np.uint8)
    if image.mode in ("I", "F"):
        values = np.asarray(image, dtype=np.float64)
        peak = values.max(initial=0)
        if peak > 255:
            values = values * (255 / peak)
        return np.clip(np.round(values), 0, 255).astype(np.uint8)
    try:
        return np.asarray(image.convert("L"))
    except ValueError as error:
        raise InvalidImage(f"Images in colour mode {image.mode} are not supported.") from error


def _corner_level(grey: np.ndarray) -> int:
    """The background grey level: the median of four small corner patches.

    Corners rather than whole edges: garments often touch the left and right edges.
    """
    height, width = grey.shape
    side = max(1, min(height, width) // 14)
    patches = [grey[:side, :side], grey[:side, -side:], grey[-side:, :side], grey[-side:, -side:]]
    return int(np.median(np.concatenate([patch.ravel() for patch in patches])))


def _trim_box(grey: np.ndarray, background: int) -> tuple[int, int, int, int] | None:
    """The (left, upper, right, lower) box of what is not background; None for the whole image."""
    height, width = grey.shape
    foreground = np.abs(grey.astype(np.int16) - background) > _TRIM_TOLERANCE
    rows = np.flatnonzero(foreground.sum(axis=1) >= math.ceil(width * _TRIM_MIN_SHARE))
    columns = np.flatnonzero(foreground.sum(axis=0) >= math.ceil(height * _TRIM_MIN_SHARE))
    if rows.size == 0 or columns.size == 0:
        return None
    box = (int(columns[0]), int(rows[0]), int(columns[-1]) + 1, int(rows[-1]) + 1)
    return None if box == (0, 0, width, height) else box


def _remove_background_level(grey: np.ndarray, background: int) -> np.ndarray:
    """Map the background level to black, as on Fashion-MNIST's pure black."""
    if background == 0:
        return grey
    return np.clip(grey.astype(np.int16) - background, 0, 255).astype(np.uint8)


def _read_only(pixels: np.ndarray) -> np.ndarray:
    pixels = np.array(pixels, dtype=np.uint8)
    pixels.setflags(write=False)
    return pixels
