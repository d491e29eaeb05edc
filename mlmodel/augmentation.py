"""Training images that look like what a phone photo becomes after the garment is cut out.

A Fashion-MNIST image is a product photo: an even garment on white, trimmed and centred. A phone
photo of the same garment, once `mlmodel.segmentation` has cut it out and `mlmodel.preprocessing`
has made its 28x28 input, differs in ways that can be imitated on the 28x28 image itself: it is
seen at a slant (rotation, perspective, a squashed or stretched aspect), it carries prints, folds
and shadows, its contrast and brightness follow the fabric's colour and the light, the mask's edge
is ragged and may keep a little of the bed or floor, and the camera blurs and adds noise. Then the
input is trimmed and centred again, as preprocessing does. `photo_trip` applies a random mix of
these to a batch; `outliers` makes pictures that are none of the ten classes (shorts cut from
trousers, skirts from dresses, hat-like and random shapes) for outlier exposure.
"""

import cv2
import numpy as np

from mlmodel.classes import CLASS_NAMES
from mlmodel.data import IMAGE_SIZE

_FOOTWEAR = [CLASS_NAMES.index(name) for name in ("Sandal", "Sneaker", "Ankle boot")]
_TROUSER = CLASS_NAMES.index("Trouser")
_DRESS = CLASS_NAMES.index("Dress")


def photo_trip(images: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A phone-photo-like version of each uint8 image (n, 28, 28), light garment on black."""
    out = np.empty_like(images)
    for index, (image, label) in enumerate(zip(images, labels)):
        out[index] = _one_trip(image, int(label) in _FOOTWEAR, rng)
    return out


def _one_trip(image: np.ndarray, footwear: bool, rng: np.random.Generator) -> np.ndarray:
    garment = image.astype(np.float32) / 255
    if footwear and rng.random() < 0.4:
        garment = _pair_from_above(garment, rng)
    mask = (garment > 8 / 255).astype(np.float32)
    if rng.random() < 0.5:
        garment = _printed(garment, mask, rng)
    if rng.random() < 0.6:
        garment = garment * _shading(rng)
    if rng.random() < 0.8:
        garment = _relevelled(garment, mask, rng)
    if rng.random() < 0.7:
        # Shoes are photographed from every side, garments mostly upright.
        garment, mask = _warped(garment, mask, rng, max_degrees=40 if footwear else 12)
    if rng.random() < 0.4:
        garment, mask = _ragged(garment, mask, rng)
    if rng.random() < 0.25:
        garment, mask = _cut_by_the_frame(garment, mask, rng)
    if rng.random() < 0.3:
        garment = cv2.GaussianBlur(garment, (0, 0), rng.uniform(0.3, 1.0))
    if rng.random() < 0.3:
        garment = garment + rng.normal(0, rng.uniform(0.01, 0.06), garment.shape).astype(np.float32)
    return fit_to_frame(np.clip(garment, 0, 1) * (mask > 0.5))


def fit_to_frame(garment: np.ndarray) -> np.ndarray:
    """Trim to what is not black, scale the longest edge to 28, centre, brightest level to 255, as
    preprocessing does for an upload."""
    rows = np.flatnonzero(garment.max(axis=1) > 0.02)
    columns = np.flatnonzero(garment.max(axis=0) > 0.02)
    if rows.size == 0 or columns.size == 0:
        return np.zeros((IMAGE_SIZE, IMAGE_SIZE), np.uint8)
    garment = garment[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]
    height, width = garment.shape
    scale = IMAGE_SIZE / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    scaled = cv2.resize(garment, size, interpolation=interpolation)
    canvas = np.zeros((IMAGE_SIZE, IMAGE_SIZE), np.float32)
    left, top = (IMAGE_SIZE - size[0] + 1) // 2, (IMAGE_SIZE - size[1] + 1) // 2
    canvas[top : top + size[1], left : left + size[0]] = scaled
    peak = canvas.max()
    if peak > 0:
        canvas = canvas / peak
    return np.round(np.clip(canvas, 0, 1) * 255).astype(np.uint8)


def _pair_from_above(shoe: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Two of the shoe, turned toe up (or down) and side by side, as phones photograph a pair.

    A shoe seen from above is not one seen from the side, but its outline turned upright comes
    close, and the pair's two long shapes side by side are what the photos show.
    """
    angle = rng.choice([90, -90]) + rng.uniform(-20, 20)
    one = _rotated(shoe, angle)
    other = _rotated(shoe[:, ::-1] if rng.random() < 0.5 else shoe, angle + rng.uniform(-15, 15))
    width = one.shape[1]
    gap = int(width * rng.uniform(0.25, 0.5))
    shift = int(rng.uniform(-0.15, 0.15) * one.shape[0])
    canvas = np.zeros((one.shape[0] + abs(shift), width + gap), np.float32)
    canvas[max(0, shift) : max(0, shift) + one.shape[0], :width] = one
    right = canvas[max(0, -shift) : max(0, -shift) + one.shape[0], gap : gap + width]
    np.maximum(right, other, out=right)
    return fit_to_frame(canvas).astype(np.float32) / 255


def _rotated(image: np.ndarray, degrees: float) -> np.ndarray:
    size = IMAGE_SIZE * 3 // 2
    pad = (size - IMAGE_SIZE) // 2
    padded = cv2.copyMakeBorder(
        image, pad, size - IMAGE_SIZE - pad, pad, size - IMAGE_SIZE - pad, cv2.BORDER_CONSTANT
    )
    matrix = cv2.getRotationMatrix2D((size / 2, size / 2), degrees, 1.0)
    return cv2.warpAffine(padded, matrix, (size, size), flags=cv2.INTER_LINEAR)


def _printed(garment: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Stripes, checks, blotches or a logo across the garment, darker or lighter than the cloth."""
    ys, xs = np.mgrid[0:IMAGE_SIZE, 0:IMAGE_SIZE].astype(np.float32)
    kind = rng.integers(4)
    if kind == 0:  # stripes at any angle
        angle = rng.uniform(0, np.pi)
        period = rng.uniform(2.5, 8)
        pattern = 0.5 + 0.5 * np.sin((xs * np.cos(angle) + ys * np.sin(angle)) * 2 * np.pi / period)
    elif kind == 1:  # checks
        period = rng.uniform(3, 9)
        pattern = ((np.floor(xs / period) + np.floor(ys / period)) % 2).astype(np.float32)
    elif kind == 2:  # blotches: smooth noise
        coarse = rng.random((rng.integers(3, 8),) * 2).astype(np.float32)
        pattern = cv2.resize(coarse, (IMAGE_SIZE, IMAGE_SIZE), interpolation=cv2.INTER_CUBIC)
    else:  # a logo or print on the chest
        pattern = np.zeros((IMAGE_SIZE, IMAGE_SIZE), np.float32)
        height, width = rng.integers(4, 12, size=2)
        top, left = rng.integers(6, 16), rng.integers(14 - width // 2 - 3, 14 - width // 2 + 4)
        pattern[top : top + height, left : left + width] = rng.random((height, width)) > 0.4
    strength = rng.uniform(0.2, 0.7)
    if rng.random() < 0.5:
        return garment * (1 - strength * pattern) * mask
    return np.minimum(1, garment + strength * pattern) * mask


def _shading(rng: np.random.Generator) -> np.ndarray:
    """Folds and uneven light: a smooth field between about 0.5 and 1."""
    coarse = rng.uniform(1 - rng.uniform(0.2, 0.5), 1, size=(rng.integers(2, 6),) * 2).astype(np.float32)
    return cv2.resize(coarse, (IMAGE_SIZE, IMAGE_SIZE), interpolation=cv2.INTER_CUBIC)


def _relevelled(garment: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Another fabric colour and light: gamma, contrast, and a floor that keeps a pale cloth visible."""
    gamma = np.exp(rng.uniform(np.log(0.4), np.log(2.5)))
    contrast = rng.uniform(0.3, 1.0)
    floor = rng.uniform(0, 0.6) * (1 - contrast)
    return (floor + contrast * np.power(np.clip(garment, 0, 1), gamma)) * mask


def _warped(
    garment: np.ndarray, mask: np.ndarray, rng: np.random.Generator, *, max_degrees: float
) -> tuple[np.ndarray, np.ndarray]:
    """Rotated, scaled in x and y apart, and seen at a slant (perspective)."""
    size = IMAGE_SIZE * 2  # room to turn without cutting corners off
    pad = IMAGE_SIZE // 2
    garment = cv2.copyMakeBorder(garment, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    mask = cv2.copyMakeBorder(mask, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    centre = size / 2
    corners = np.float32([[pad, pad], [size - pad, pad], [size - pad, size - pad], [pad, size - pad]])
    angle = np.deg2rad(rng.uniform(-max_degrees, max_degrees))
    stretch = np.exp(rng.uniform(-0.2, 0.2, size=2))
    rotation = np.float32([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = (corners - centre) * stretch @ rotation.T + centre
    moved += rng.uniform(-0.12, 0.12, size=moved.shape) * IMAGE_SIZE
    matrix = cv2.getPerspectiveTransform(corners, moved.astype(np.float32))
    garment = cv2.warpPerspective(garment, matrix, (size, size), flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(mask, matrix, (size, size), flags=cv2.INTER_LINEAR)
    return garment, mask


def _cut_by_the_frame(
    garment: np.ndarray, mask: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Part of the garment lost past one or two edges of the photo, as when it fills the frame."""
    rows = np.flatnonzero(mask.max(axis=1) > 0.5)
    columns = np.flatnonzero(mask.max(axis=0) > 0.5)
    if rows.size < 4 or columns.size < 4:
        return garment, mask
    keep = np.ones_like(mask)
    for side in rng.choice(4, size=rng.integers(1, 3), replace=False):
        span = rows if side < 2 else columns
        cut = int(len(span) * rng.uniform(0.05, 0.25))
        edge = span[0] + cut if side % 2 == 0 else span[-1] + 1 - cut
        if side == 0:
            keep[:edge] = 0
        elif side == 1:
            keep[edge:] = 0
        elif side == 2:
            keep[:, :edge] = 0
        else:
            keep[:, edge:] = 0
    return garment * keep, mask * keep


def _ragged(garment: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A mask edge as a segmentation leaves it: nibbled, swollen, with a little background kept."""
    height, width = mask.shape
    noise = cv2.resize(
        rng.random((max(2, height // 3), max(2, width // 3))).astype(np.float32),
        (width, height),
        interpolation=cv2.INTER_LINEAR,
    )
    binary = (mask > 0.5).astype(np.uint8)
    kernel = np.ones((3, 3), np.uint8)
    swollen = cv2.dilate(binary, kernel).astype(bool)
    shrunk = cv2.erode(binary, kernel).astype(bool)
    edge = swollen & ~shrunk
    keep = np.where(edge, noise > rng.uniform(0.3, 0.7), binary.astype(bool))
    leaked = edge & keep & (binary == 0)
    # What the mask kept of the background: a mid grey, like a sheet or a floor after inversion.
    garment = np.where(leaked, rng.uniform(0.1, 0.6) * noise, garment).astype(np.float32)
    return garment, keep.astype(np.float32)


def outliers(images: np.ndarray, labels: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` pictures that are none of the ten classes, made from Fashion-MNIST and from shapes.

    Shorts are trousers cut above the knee, skirts are dresses below the waist: the things most
    often mistaken for the ten. Hats are domes with or without a brim. The rest are blobs and
    scraps of texture, as a segmentation finds on a bare bed or a landscape.
    """
    trousers = images[labels == _TROUSER]
    dresses = images[labels == _DRESS]
    made = np.empty((count, IMAGE_SIZE, IMAGE_SIZE), np.uint8)
    for index in range(count):
        kind = rng.integers(4)
        if kind == 0 and len(trousers):
            picture = _cut_rows(trousers[rng.integers(len(trousers))], 0, rng.uniform(0.3, 0.55))
        elif kind == 1 and len(dresses):
            picture = _cut_rows(dresses[rng.integers(len(dresses))], rng.uniform(0.35, 0.55), 1)
        elif kind == 2:
            picture = _hat(rng)
        else:
            picture = _blob(rng)
        made[index] = _one_trip(picture, False, rng)
    return made


def _cut_rows(image: np.ndarray, start: float, stop: float) -> np.ndarray:
    """The rows of a garment from `start` to `stop` (shares of its height), fitted to the frame again."""
    rows = np.flatnonzero(image.max(axis=1) > 8)
    if rows.size == 0:
        return image
    top, height = rows[0], rows[-1] + 1 - rows[0]
    cut = np.zeros_like(image)
    first, last = top + int(start * height), top + max(int(stop * height), int(start * height) + 2)
    cut[first:last] = image[first:last]
    return fit_to_frame(cut.astype(np.float32) / 255)


def _hat(rng: np.random.Generator) -> np.ndarray:
    """A hat seen from the side (a dome on a brim or a peak) or from above (a disc, maybe with a peak)."""
    canvas = np.zeros((IMAGE_SIZE * 2, IMAGE_SIZE * 2), np.float32)
    centre = (IMAGE_SIZE, int(IMAGE_SIZE * rng.uniform(1.0, 1.3)))
    level = rng.uniform(0.5, 1)
    if rng.random() < 0.5:  # from the side
        crown = (int(IMAGE_SIZE * rng.uniform(0.45, 0.7)), int(IMAGE_SIZE * rng.uniform(0.4, 0.8)))
        cv2.ellipse(canvas, centre, crown, 0, 180, 360, level, -1)
        if rng.random() < 0.7:  # a brim or a peak
            brim = (int(crown[0] * rng.uniform(1.0, 1.6)), int(IMAGE_SIZE * rng.uniform(0.05, 0.2)))
            shift = int(rng.uniform(-0.5, 0.5) * crown[0]) if rng.random() < 0.5 else 0
            cv2.ellipse(canvas, (centre[0] + shift, centre[1]), brim, 0, 0, 360, rng.uniform(0.5, 1), -1)
    else:  # from above: the crown's disc, its seams, and a peak or a brim around it
        radius = int(IMAGE_SIZE * rng.uniform(0.45, 0.7))
        axes = (radius, int(radius * rng.uniform(0.8, 1.0)))
        if rng.random() < 0.4:
            cv2.ellipse(canvas, centre, (int(axes[0] * 1.4), int(axes[1] * 1.4)), 0, 0, 360, level * 0.8, -1)
        cv2.ellipse(canvas, centre, axes, 0, 0, 360, level, -1)
        if rng.random() < 0.5:
            peak = int(rng.uniform(0, 360))
            cv2.ellipse(
                canvas, centre, (int(axes[0] * 1.5), int(axes[1] * 1.3)), peak, -40, 40, level * 0.7, -1
            )
        for angle in np.linspace(0, np.pi, int(rng.integers(0, 4)), endpoint=False):
            dx, dy = int(axes[0] * np.cos(angle)), int(axes[1] * np.sin(angle))
            cv2.line(
                canvas, (centre[0] - dx, centre[1] - dy), (centre[0] + dx, centre[1] + dy), level * 0.6, 1
            )
    if rng.random() < 0.5:
        canvas = cv2.rotate(canvas, cv2.ROTATE_180)
    return fit_to_frame(canvas * rng.uniform(0.6, 1.0, canvas.shape).astype(np.float32))


def _blob(rng: np.random.Generator) -> np.ndarray:
    coarse = rng.random((rng.integers(3, 7),) * 2).astype(np.float32)
    field = cv2.resize(coarse, (IMAGE_SIZE, IMAGE_SIZE), interpolation=cv2.INTER_CUBIC)
    shape = field > np.quantile(field, rng.uniform(0.3, 0.7))
    texture = rng.uniform(0.3, 1.0) * cv2.resize(
        rng.random((7, 7)).astype(np.float32), (IMAGE_SIZE, IMAGE_SIZE), interpolation=cv2.INTER_CUBIC
    )
    return fit_to_frame(np.clip(texture, 0, 1) * shape)
