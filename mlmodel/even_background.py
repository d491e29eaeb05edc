"""Product photos, a garment on an even background: made into 28x28 inputs as Fashion-MNIST was.

Fashion-MNIST's own recipe: trim the edges close to the corner colour, subtract that colour, resize
the longest edge to 28 (Lanczos), centre on a black 28x28 canvas, negate when the background was
light, stretch the brightest level to 255. A background counts as even when nearly all of the
photo's outer band is within a few levels of the corners' colour: white or grey paper, a backdrop,
the flattened transparency of a cut-out. Anything else is a phone photo, for `mlmodel.segmentation`.
"""

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from mlmodel.data import IMAGE_SIZE

# Fashion-MNIST trimmed with a 5% colour tolerance.
_TRIM_TOLERANCE = round(0.05 * 255)
# A row or column is kept when at least this share of it is away from the
# background colour, so scattered noise (JPEG artefacts, dust) does not stop the trim.
_TRIM_MIN_SHARE = 1 / 200
# The outer band looked at to tell an even background, and the share of it that must match the
# corners: garments in product photos often touch the left and right edges, so not all of it.
_BAND_SHARE = 0.03
_EVEN_SHARE = 0.7


@dataclass(frozen=True)
class Made:
    pixels: np.ndarray
    inverted: bool
    trimmed_box: tuple[int, int, int, int] | None
    background_level: int
    scaled_size: tuple[int, int]
    peak_level: int


def corner_level(grey: np.ndarray) -> int:
    """The background grey level: the median of four small corner patches.

    Corners rather than whole edges: garments often touch the left and right edges.
    """
    height, width = grey.shape
    side = max(1, min(height, width) // 14)
    patches = [grey[:side, :side], grey[:side, -side:], grey[-side:, :side], grey[-side:, -side:]]
    return int(np.median(np.concatenate([patch.ravel() for patch in patches])))


def has_even_background(grey: np.ndarray) -> bool:
    """Whether nearly all of the outer band is the corners' level (a product photo)."""
    height, width = grey.shape
    band = max(1, round(min(height, width) * _BAND_SHARE))
    outer = np.concatenate(
        [grey[:band].ravel(), grey[-band:].ravel(), grey[:, :band].ravel(), grey[:, -band:].ravel()]
    )
    matching = np.abs(outer.astype(np.int16) - corner_level(grey)) <= _TRIM_TOLERANCE
    return bool(matching.mean() >= _EVEN_SHARE)


def to_model_input(grey: np.ndarray) -> Made:
    """The 28x28 input of a product photo, given as 8-bit grey pixels (height, width)."""
    background = corner_level(grey)
    inverted = background > 127
    if inverted:
        grey = 255 - grey
        background = 255 - background

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
    return Made(pixels, inverted, trimmed_box, background, scaled_size, peak_level)


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
