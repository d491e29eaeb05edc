"""Why the model answered what it did: occlusion sensitivity over the 28x28 input.

A grey patch over part of a garment hides that part; when the probability of the answer drops, the
part mattered (Zeiler and Fergus, 2014, "Visualizing and understanding convolutional networks").
Here a PATCH x PATCH square, set to the black of Fashion-MNIST's background (as if that part of the
garment were not there), slides over the input every STRIDE pixels: 8 x 8 = 64 hidden copies, classified
with the original in one batch by the served LiteRT model, so no TensorFlow and a few milliseconds
of work. A pixel's sensitivity is the mean drop of the answer's probability over the patches that
cover it (negative where hiding it made the answer more likely).

`garment_boxes` maps the 28x28 input back onto the photo: preprocessing scaled the trimmed box of the
photo (its `trimmed_box` decision) into a centred rectangle of the input (its `scaled_size`), so the
map's part inside that rectangle lies over that box of the photo.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlmodel.data import IMAGE_SIZE
from mlmodel.predictor import Predictor, combine_looks

PATCH = 7
STRIDE = 3
METHOD = f"occlusion {PATCH}x{PATCH}/{STRIDE}"  # stored with a cached map: a change of method is seen
OFFSETS = tuple(range(0, IMAGE_SIZE - PATCH + 1, STRIDE))  # 0, 3, ..., 21: the last patch ends at 28

Box = tuple[float, float, float, float]  # (left, top, right, bottom)


@dataclass(frozen=True, eq=False)
class Occlusion:
    sensitivity: np.ndarray  # float32 (28, 28): mean drop of the answer's probability, see above
    probability: float  # the answer's probability with nothing hidden
    lowest: float  # the answer's probability with the patch that matters most hidden

    def to_bytes(self) -> bytes:
        """The map as 28x28 little-endian float16 (1,568 bytes): ample for a picture of it."""
        return self.sensitivity.astype("<f2").tobytes()

    @classmethod
    def from_bytes(cls, data: bytes, probability: float, lowest: float) -> Occlusion:
        sensitivity = np.frombuffer(data, "<f2").reshape(IMAGE_SIZE, IMAGE_SIZE).astype(np.float32)
        return cls(sensitivity, probability, lowest)


def occluded_copies(pixels: np.ndarray) -> np.ndarray:
    """The input followed by one copy per patch position (row by row), that patch set to black."""
    copies = np.repeat(pixels[np.newaxis], 1 + len(OFFSETS) ** 2, axis=0)
    for n, (top, left) in enumerate((top, left) for top in OFFSETS for left in OFFSETS):
        copies[1 + n, top : top + PATCH, left : left + PATCH] = 0
    return copies


def occlusion(
    predictor: Predictor, pixels: np.ndarray, class_index: int, second_look: np.ndarray | None = None
) -> Occlusion:
    """How much each part of a (28, 28) uint8 input led the model to class `class_index`.

    With the second look the model took (a wide garment's, mlmodel.cut_out), every copy is answered
    with that look beside it, unhidden, as the upload was: the probability with nothing hidden is then
    the one the visitor was shown, and the map says which parts of the first look moved it."""
    every = np.array([result.probabilities for result in predictor.classify(occluded_copies(pixels))])
    if second_look is not None:  # the same beside every copy, so classified once
        (seen_again,) = predictor.classify(second_look[np.newaxis])
        every = combine_looks(every, np.array(seen_again.probabilities))
    probabilities = every[:, class_index]
    drops = probabilities[0] - probabilities[1:]
    total = np.zeros((IMAGE_SIZE, IMAGE_SIZE), np.float64)
    covered = np.zeros((IMAGE_SIZE, IMAGE_SIZE), np.float64)
    for drop, (top, left) in zip(drops, ((top, left) for top in OFFSETS for left in OFFSETS)):
        total[top : top + PATCH, left : left + PATCH] += drop
        covered[top : top + PATCH, left : left + PATCH] += 1
    return Occlusion(
        (total / covered).astype(np.float32), float(probabilities[0]), float(probabilities[1:].min())
    )


def garment_boxes(decisions: dict, photo_aspect: float) -> tuple[Box, Box]:
    """Where the garment is in the 28x28 input (pixels) and in the upright photo (shares of its width
    and height), from the stored preprocessing decisions and the upright photo's width / height.

    An input used as it is, or a photo that was not trimmed, is the whole of both."""
    whole_input: Box = (0, 0, IMAGE_SIZE, IMAGE_SIZE)
    trimmed = decisions.get("trimmed_box")
    scaled = decisions.get("scaled_size")
    if not trimmed or not scaled:
        return whole_input, (0.0, 0.0, 1.0, 1.0)
    width, height = scaled
    left, top = (IMAGE_SIZE - width + 1) // 2, (IMAGE_SIZE - height + 1) // 2  # preprocessing's centring
    # The box is in pixels of the upright photo at the uploaded size, whose long side is the larger
    # of the uploaded sides (an EXIF rotation swaps the sides, the thumbnail shows which way up).
    long_side = max(decisions["source_size"])
    upright = (
        (long_side, long_side / photo_aspect) if photo_aspect >= 1 else (long_side * photo_aspect, long_side)
    )
    box_left, box_top, box_right, box_bottom = trimmed
    in_photo = (
        box_left / upright[0],
        box_top / upright[1],
        box_right / upright[0],
        box_bottom / upright[1],
    )
    return (left, top, left + width, top + height), tuple(min(max(edge, 0.0), 1.0) for edge in in_photo)
