"""Pictures of an occlusion map (mlmodel.explanation): over the 28x28 input the model saw, and over
the garment in the photo's thumbnail; and the sentence that says what they show."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from mlmodel.explanation import Occlusion, garment_boxes

from .answers import a, percent

INPUT_SIZE = 140  # the 28x28 input shown five times enlarged, as on the result page
# The map's largest drop is drawn at full strength, the others in proportion; but never a drop
# smaller than this, so that a map of tiny drops does not look as decisive as one of large drops.
FULL_STRENGTH_AT_LEAST = 0.2
# Colour and opacity from no drop to a full-strength one: clear, yellow, orange, dark red; never
# opaque, so that the garment stays visible under its colour.
STOPS = np.array(
    [
        [0.0, 255, 230, 0, 0],
        [0.15, 255, 210, 0, 70],
        [0.55, 255, 110, 0, 140],
        [1.0, 190, 0, 0, 185],
    ]
)


def colours(sensitivity: np.ndarray, full_strength: float) -> Image.Image:
    """The map as an RGBA picture: where hiding a part lowered the answer's probability, coloured."""
    strength = np.clip(sensitivity / full_strength, 0.0, 1.0)
    channels = [np.interp(strength, STOPS[:, 0], STOPS[:, channel]) for channel in range(1, 5)]
    return Image.fromarray(np.round(np.stack(channels, axis=-1)).astype(np.uint8), "RGBA")


def _resized(sensitivity: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    # Bilinear, on the values rather than the colours: the map is smooth, the patches overlap.
    image = Image.fromarray(sensitivity.astype(np.float32), "F").resize(size, Image.Resampling.BILINEAR)
    return np.asarray(image)


def _full_strength(made: Occlusion) -> float:
    return max(float(made.sensitivity.max()), FULL_STRENGTH_AT_LEAST)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def over_input(model_input_png: bytes, made: Occlusion) -> bytes:
    """The 28x28 input, enlarged without smoothing, with the map over it (PNG)."""
    size = (INPUT_SIZE, INPUT_SIZE)
    picture = Image.open(io.BytesIO(model_input_png)).convert("RGBA").resize(size, Image.Resampling.NEAREST)
    return _png(
        Image.alpha_composite(
            picture, colours(_resized(made.sensitivity, size), _full_strength(made))
        ).convert("RGB")
    )


def over_photo(thumbnail_jpeg: bytes, made: Occlusion, decisions: dict) -> bytes:
    """The photo's thumbnail with the map laid over the part of it that became the 28x28 input (PNG)."""
    picture = Image.open(io.BytesIO(thumbnail_jpeg)).convert("RGBA")
    (in_left, in_top, in_right, in_bottom), photo_box = garment_boxes(
        decisions, picture.width / picture.height
    )
    left, top = round(photo_box[0] * picture.width), round(photo_box[1] * picture.height)
    right, bottom = round(photo_box[2] * picture.width), round(photo_box[3] * picture.height)
    if right - left < 1 or bottom - top < 1:
        return _png(picture.convert("RGB"))
    garment = made.sensitivity[in_top:in_bottom, in_left:in_right]
    layer = Image.new("RGBA", picture.size, (0, 0, 0, 0))
    layer.paste(colours(_resized(garment, (right - left, bottom - top)), _full_strength(made)), (left, top))
    return _png(Image.alpha_composite(picture, layer).convert("RGB"))


def why_sentence(made: Occlusion, label: str) -> str:
    """What the maps show, in words, with the figures they are drawn from."""
    if made.probability - made.lowest < 0.02:
        return (
            f"Hiding any one part of the picture barely changes the answer ({a(label)}, "
            f"{percent(made.probability)}): the model answered from the garment as a whole."
        )
    return (
        f"Coloured: the parts that led the model to {a(label)}. Hiding the part that matters most "
        f"(the reddest) lowers its probability from {percent(made.probability)} to {percent(made.lowest)}."
    )
