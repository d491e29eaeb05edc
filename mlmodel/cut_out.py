"""The 28x28 input made from a garment cut out of a phone photo (mlmodel.segmentation's mask).

The garment is negated as Fashion-MNIST's product photos were, light on pure black, trimmed to its
mask, its longest edge scaled to 28 and centred, its aspect kept: that is the model input.

A garment wider than tall also gets a second look, squeezed to fill the square. Laid flat on a bed,
a long-sleeved top spreads its arms and comes out wider than tall, which no Fashion-MNIST top is
(its tops are photographed with the arms down): the network answers such a shape Bag or Sandal. The
predictor averages the two looks (mlmodel.predictor). On the tune photos this took exact / group
answers from 72.0% / 85.4% to 72.8% / 86.6% (long-sleeved tops in the upper-body group 84% to 89%;
shoes seen from the side, rightly wide, lost a point or two); the squeezed look alone, without
the kept aspect beside it, made 72.8% / 86.8% but lost more of the shoes (64% to 57%).
Models adapted to corrected photos learnt wide tops from them and lose a little by it, since their
corrections do not include this look (docs/experiments.md, *A second look*).
"""

from dataclasses import dataclass

import cv2
import numpy as np

from mlmodel.data import IMAGE_SIZE


@dataclass(frozen=True, eq=False)
class CutOut:
    pixels: np.ndarray  # the model input, (28, 28) uint8, the garment's aspect kept
    scaled_size: tuple[int, int]  # (width, height) of the garment in it
    box: tuple[int, int, int, int]  # (left, upper, right, lower) of the garment in the grey copy
    squeezed: np.ndarray | None  # a wide garment filling the whole square; None for a tall one


def cut_out(grey: np.ndarray, mask: np.ndarray) -> CutOut:
    """The garment of `grey` (8-bit, any size) under `mask` (bool, any size: scaled to grey's)."""
    levels, box = _garment_levels(grey, mask)
    height, width = levels.shape
    scale = IMAGE_SIZE / max(height, width)
    scaled_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    squeezed = _fitted(levels, (IMAGE_SIZE, IMAGE_SIZE)) if width > height else None
    return CutOut(_fitted(levels, scaled_size), scaled_size, box, squeezed)


def _garment_levels(grey: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The negated garment trimmed to its mask, levels 0..1 (0 off the garment), and its box."""
    height, width = grey.shape
    # The mask comes from a smaller copy: scaled up smoothly, its edge stays soft, as in Fashion-MNIST.
    soft = cv2.resize(mask.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)
    rows = np.flatnonzero(soft.max(axis=1) >= 0.5)
    columns = np.flatnonzero(soft.max(axis=0) >= 0.5)
    box = (int(columns[0]), int(rows[0]), int(columns[-1]) + 1, int(rows[-1]) + 1)
    left, upper, right, lower = box
    soft = soft[upper:lower, left:right]
    negative = 255 - grey[upper:lower, left:right].astype(np.float32)
    # The garment's own darkest and lightest levels span the full range, like a product photo's.
    inside = negative[soft >= 0.5]
    low, high = np.percentile(inside, (1, 99)) if inside.size else (0.0, 255.0)
    return np.clip((negative - low) / max(high - low, 1.0), 0, 1) * soft, box


def _fitted(levels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The levels scaled to `size` (width, height), centred on the 28x28 canvas, brightest at 255."""
    scaled = cv2.resize(levels, size, interpolation=cv2.INTER_AREA)
    canvas = np.zeros((IMAGE_SIZE, IMAGE_SIZE), np.float32)
    left, top = (IMAGE_SIZE - size[0] + 1) // 2, (IMAGE_SIZE - size[1] + 1) // 2
    canvas[top : top + size[1], left : left + size[0]] = scaled
    peak = canvas.max()
    pixels = np.round(canvas * (255 / peak)) if peak > 0 else canvas
    return pixels.astype(np.uint8)
