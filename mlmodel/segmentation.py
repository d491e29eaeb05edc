"""Separating the garment in a photo from what it lies on: a bed, a floor, a table, a wall.

A phone photo of clothing shows the garment on a background that is anything but white: printed
sheets, wood, tiles, carpet, shadows. Fashion-MNIST's garments stand alone on black, so before the
28x28 input is made the garment must be cut out. `find_garment` runs OpenCV's GrabCut on a small
copy of the photo (about 80 pixels on its long side: a 28x28 input needs no more, and GrabCut's cost
grows with the pixels), with the photo's border as the first guess of the background. Its mask is
then cleaned the way the photos need: thin parts (a hanger's hook, a string) are cut off, holes
(a print the colour of the sheet) are filled, and specks are dropped. Two shoes side by side are
split and the larger one kept, as Fashion-MNIST shows one shoe.
"""

from dataclasses import dataclass

import cv2
import numpy as np

# One thread: a web worker's requests are its parallelism, and on an 80-pixel image OpenCV's thread
# pool only adds hand-offs (GrabCut took 16.4 ms of CPU with one thread, 18.5 ms with its pool).
cv2.setNumThreads(1)

WORK_SIZE = 80  # the long side, in pixels, that segmentation runs at
# GrabCut's first iteration costs most (about 8 ms here, each further one 2 ms); a third one was
# no better on the tune photos (exact answers 69.5% with three, 70.1% with two, 68.7% with one).
_GRABCUT_ITERATIONS = 2
_BORDER_SHARE = 0.04  # the frame's outer band taken as background at first
# A component is kept when it is at least this share of the largest one (sleeves cut off by a
# fold stay, specks of the background go).
_KEEP_SHARE = 0.25
# Two components, each at least this share of the other, side by side: a pair (of shoes).
_PAIR_SHARE = 0.4
# Less than this share of the frame is not a garment: segmentation failed, the whole photo is used.
_MIN_SHARE = 0.02
# OpenCV's GrabCut colour models: five Gaussian components, each a weight, 3 means, 9 covariances.
_COMPONENTS = 5
_LUMA = np.array([0.299, 0.587, 0.114])  # brightness of an RGB pixel (ITU-R 601)
_SINGULAR_FIX = 0.01  # added to a component's variances (OpenCV's own learning adds the same)


@dataclass(frozen=True, eq=False)
class Garment:
    """Where the garment is in the photo: a mask at the work size and what was decided."""

    mask: np.ndarray  # bool (height, width), True on the garment
    method: str  # "grabcut", or "whole-photo" when nothing garment-like was found
    pair_split: bool  # two items side by side were found and only the larger one kept

    @property
    def share(self) -> float:
        """The share of the photo the garment covers."""
        return float(self.mask.mean())

    @property
    def box(self) -> tuple[float, float, float, float]:
        """(left, top, right, bottom) of the garment, as shares of the photo's width and height."""
        rows = np.flatnonzero(self.mask.any(axis=1))
        columns = np.flatnonzero(self.mask.any(axis=0))
        height, width = self.mask.shape
        return (
            columns[0] / width,
            rows[0] / height,
            (columns[-1] + 1) / width,
            (rows[-1] + 1) / height,
        )

    def outline(self, max_points: int = 60) -> list[list[float]]:
        """The garment's outer edge as [x, y] points, shares of the photo's width and height."""
        contours, _ = cv2.findContours(self.mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        if not contours:
            return []
        contour = max(contours, key=cv2.contourArea)
        epsilon = 0.5
        while len(contour) > max_points:
            contour = cv2.approxPolyDP(contour, epsilon, closed=True)
            epsilon *= 1.5
        height, width = self.mask.shape
        return [[round(float(x) / width, 4), round(float(y) / height, 4)] for x, y in contour[:, 0, :]]


def work_copy(rgb: np.ndarray) -> np.ndarray:
    """The photo shrunk to WORK_SIZE on its long side, for segmentation."""
    height, width = rgb.shape[:2]
    scale = WORK_SIZE / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def find_garment(rgb: np.ndarray) -> Garment:
    """The garment in an RGB photo (height, width, 3) uint8, found at WORK_SIZE."""
    small = work_copy(rgb)
    mask = _grabcut(small)
    mask, pair_split = _one_of_a_pair(mask)
    if mask.mean() < _MIN_SHARE:
        return Garment(mask=np.ones(small.shape[:2], bool), method="whole-photo", pair_split=False)
    return Garment(mask=mask, method="grabcut", pair_split=pair_split)


def _grabcut(small: np.ndarray) -> np.ndarray:
    """GrabCut's garment, started from the frame's outer band as background.

    A garment that fills the frame leaves the band full of its own colours; GrabCut then finds no
    garment at all. It is asked again with only the four corners as sure background and the rest of
    the band as likely background.
    """
    height, width = small.shape[:2]
    band = max(1, round(min(height, width) * _BORDER_SHARE))
    if height <= 2 * band + 2 or width <= 2 * band + 2:
        return np.ones((height, width), bool)
    mask = np.full((height, width), cv2.GC_BGD, np.uint8)
    mask[band:-band, band:-band] = cv2.GC_PR_FGD
    found = _run_grabcut(small, mask)
    if found.mean() >= _MIN_SHARE:  # specks of the band's colours are not a garment
        return found
    mask[:] = cv2.GC_PR_BGD
    mask[band:-band, band:-band] = cv2.GC_PR_FGD
    corner = 2 * band
    for rows in (slice(0, corner), slice(-corner, None)):
        for columns in (slice(0, corner), slice(-corner, None)):
            mask[rows, columns] = cv2.GC_BGD
    return _run_grabcut(small, mask)


def _run_grabcut(small: np.ndarray, mask: np.ndarray) -> np.ndarray:
    mask = mask.copy()
    labels = mask.ravel()
    background = _colour_model(small.reshape(-1, 3)[(labels == cv2.GC_BGD) | (labels == cv2.GC_PR_BGD)])
    # The garment's first colours are those of the frame's middle, not of all inside the band, which
    # is often half background: from the purer start GrabCut's first cut costs less (5.4 ms against
    # 6.1 here), as right (exact answers on the tune photos 72.0% against 71.8%).
    height, width = mask.shape
    middle = small[height // 4 : height - height // 4, width // 4 : width - width // 4]
    foreground = _colour_model(middle.reshape(-1, 3))
    # GC_EVAL: GrabCut starts from these colour models instead of fitting its own with k-means.
    # OpenCV takes BGR; the order only matters to its colour models, which treat channels alike.
    cv2.grabCut(
        np.ascontiguousarray(small), mask, None, background, foreground, _GRABCUT_ITERATIONS, cv2.GC_EVAL
    )
    return _cleaned((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD))


def _colour_model(pixels: np.ndarray) -> np.ndarray:
    """A GrabCut colour model of these (n, 3) pixels in OpenCV's layout, (1, 65): the weights,
    means and covariances of five components, the pixels split into five by brightness.

    OpenCV's own start, k-means, cost 1.8 ms of GrabCut's 8 here and was no better on the tune
    photos (exact answers 71.5% with it, 71.8% with this; 71.2-72.1% with k-means's other seeds).
    """
    model = np.zeros((1, 13 * _COMPONENTS), np.float64)
    weights = model[0, :_COMPONENTS]
    means = model[0, _COMPONENTS : 4 * _COMPONENTS].reshape(_COMPONENTS, 3)
    covariances = model[0, 4 * _COMPONENTS :].reshape(_COMPONENTS, 3, 3)
    values = pixels.astype(np.float64)
    by_brightness = values[np.argsort(values @ _LUMA)]
    for index, part in enumerate(np.array_split(by_brightness, _COMPONENTS)):
        if len(part) == 0:  # fewer pixels than components
            continue
        weights[index] = len(part) / len(values)
        mean = means[index] = part.mean(axis=0)
        # A flat colour has a singular covariance, which OpenCV refuses: add a little noise.
        covariances[index] = part.T @ part / len(part) - np.outer(mean, mean) + _SINGULAR_FIX * np.eye(3)
    return model


def _cleaned(mask: np.ndarray) -> np.ndarray:
    """Thin parts cut off, small components dropped, holes filled."""
    opened = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(opened, connectivity=8)
    if count <= 1:
        return opened.astype(bool)
    areas = stats[1:, cv2.CC_STAT_AREA]
    kept = np.flatnonzero(areas >= _KEEP_SHARE * areas.max()) + 1
    return _filled(np.isin(labels, kept))


def _filled(mask: np.ndarray) -> np.ndarray:
    """The mask with every hole filled: what the frame's border cannot reach through background."""
    background = (~mask).astype(np.uint8)
    padded = cv2.copyMakeBorder(background, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=1)
    flood = padded.copy()
    cv2.floodFill(flood, None, (0, 0), 2)
    return (flood[1:-1, 1:-1] != 2) | mask


def _one_of_a_pair(mask: np.ndarray) -> tuple[np.ndarray, bool]:
    """The larger of two items of about the same size side by side (a pair of shoes); else the mask."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if count != 3:
        return mask, False
    first, second = stats[1], stats[2]
    if min(first[cv2.CC_STAT_AREA], second[cv2.CC_STAT_AREA]) < _PAIR_SHARE * max(
        first[cv2.CC_STAT_AREA], second[cv2.CC_STAT_AREA]
    ):
        return mask, False
    larger = 1 if first[cv2.CC_STAT_AREA] >= second[cv2.CC_STAT_AREA] else 2
    return labels == larger, True
