"""Telling a photo of none of the ten classes (a hat, shorts, a cat) from one of them.

The network is trained with outlier exposure (mlmodel.augmentation.outliers: shorts cut from
trousers, skirts from dresses, hat-like and random shapes, all with a uniform target), so on what
is none of the ten its logits stay low and even. The score is the energy of the logits at the
fitted temperature, T * logsumexp(logits / T) (Liu et al., 2020, "Energy-based out-of-distribution
detection"): higher means more like the training classes. It told the development photos of hats,
shorts and skirts from the photos it answered right better than the top probability did.

A photo scoring below the model's threshold is "probably none of the ten". The threshold is set on
real photos, the `tune` half of the development set (mlmodel.clothing_photos), so that
FLAGGED_SHARE of the photos the model answers right are flagged; where those photos are missing,
on validation images made to look like phone photos (mlmodel.augmentation.photo_trip), as also when
the model answers fewer than MIN_RIGHT_ANSWERS of the photos right. The other
half of the photos is what the figures in the README are measured on.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mlmodel.classes import CLASS_NAMES

FLAGGED_SHARE = 0.1  # of the right answers, on the photos the threshold is set on
# Fewer right answers than this on the real photos (too few photos, or a model trained for
# seconds) cannot place a 10% quantile: the photo-like validation images set it instead.
MIN_RIGHT_ANSWERS = 50


@dataclass(frozen=True, eq=False)
class CalibrationPhotos:
    """Real photos of the ten classes as 28x28 inputs, with the answers that count as right for each."""

    images: np.ndarray  # uint8 (n, 28, 28)
    accepted: tuple[tuple[int, ...], ...]  # class indices that are right, per image

    def right(self, predicted: np.ndarray) -> np.ndarray:
        return np.array([int(label) in accepted for label, accepted in zip(predicted, self.accepted)])


def energy(logits: np.ndarray, temperature: float) -> np.ndarray:
    """T * logsumexp(logits / T) per row: higher is more like the ten classes."""
    scaled = logits / temperature
    peak = scaled.max(axis=1, keepdims=True)
    return temperature * (peak[:, 0] + np.log(np.exp(scaled - peak).sum(axis=1)))


def load_calibration_photos(root: Path | str) -> CalibrationPhotos:
    """The tune half of a folder of labelled photos (one folder per kind), preprocessed as uploads are."""
    # Imported here: training without photos needs neither OpenCV's segmentation nor Pillow's decoders.
    from mlmodel.clothing_photos import list_photos
    from mlmodel.preprocessing import open_image, to_model_input

    photos = [photo for photo in list_photos(root, "tune") if photo.in_classes]
    if not photos:
        raise FileNotFoundError(f"No photos of the ten classes in the tune split of {root}")
    images = np.stack([to_model_input(open_image(photo.path.read_bytes())).pixels for photo in photos])
    accepted = tuple(tuple(CLASS_NAMES.index(name) for name in photo.accepted) for photo in photos)
    return CalibrationPhotos(images, accepted)


def threshold(energies: np.ndarray, flagged_share: float = FLAGGED_SHARE) -> float:
    """The energy below which `flagged_share` of these scores lie."""
    return float(np.quantile(energies, flagged_share))
