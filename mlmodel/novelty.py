"""Telling a photo of none of the ten classes (a hat, shorts, a cat) from one of them.

Two scores, and a photo low on either is "probably none of the ten":

- The **energy** of the logits at the fitted temperature, T * logsumexp(logits / T) (Liu et al.,
  2020, "Energy-based out-of-distribution detection"): higher means more like the training classes.
  The network is trained with outlier exposure (mlmodel.augmentation.outliers: shorts cut from
  trousers, skirts from dresses, hat-like and random shapes, all with a uniform target), so on what
  is none of the ten its logits stay low and even. It catches what is unlike anything it learnt.
- The **familiarity** of mlmodel.photo_detector, fitted on real photos of other garments: it
  catches the hats, shorts and skirts whose cut-outs look to the network like bags, trousers and
  dresses (the energy alone flagged 47% of the held-out ones at 11.5% of right answers; with it, 88%
  at 12%).

The thresholds are set on real photos, the `tune` split of the development set
(mlmodel.clothing_photos): the energy's where ENERGY_FLAGGED_SHARE of the photos the model answers
right fall below it, the familiarity's (on scores from detectors fitted without the photo) where
both together flag FLAGGED_SHARE of them. Without those photos, or with too few (MIN_RIGHT_ANSWERS,
MIN_OTHER_PHOTOS), the energy alone is used, its threshold set on FLAGGED_SHARE of the right
answers on validation images made to look like phone photos (mlmodel.augmentation.photo_trip). The
other split of the photos is what the figures in the README are measured on.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mlmodel import photo_detector
from mlmodel.classes import CLASS_NAMES

FLAGGED_SHARE = 0.1  # of the right answers, on the photos the thresholds are set on
# Of them by the energy, when the photo detector takes part: most is left to the detector, which
# tells other garments apart better, and the energy still catches what is unlike every photo
# (2%, 4% and 6% were tried: within 3 points of each other on both shares).
ENERGY_FLAGGED_SHARE = 0.04
# Fewer right answers than this on the real photos (too few photos, or a model trained for
# seconds) cannot place a 10% quantile: the photo-like validation images set it instead.
MIN_RIGHT_ANSWERS = 50
MIN_OTHER_PHOTOS = 50  # photos of other garments needed to fit the photo detector


@dataclass(frozen=True, eq=False)
class CalibrationPhotos:
    """Real photos as 28x28 inputs, with the answers that count as right for each (none for a photo
    of another garment)."""

    images: np.ndarray  # uint8 (n, 28, 28)
    accepted: tuple[tuple[int, ...], ...]  # class indices that are right, per image; () for none

    @property
    def of_the_ten(self) -> np.ndarray:
        return np.array([bool(accepted) for accepted in self.accepted])

    def right(self, predicted: np.ndarray) -> np.ndarray:
        return np.array([int(label) in accepted for label, accepted in zip(predicted, self.accepted)])

    def without(self, images: np.ndarray) -> "CalibrationPhotos | None":
        """These photos less any that is one of `images` (None if none is left): a model is surer of
        the photos it was trained on than it will be of new ones, so they must not set its thresholds."""
        trained_on = {image.tobytes() for image in images}
        kept = [index for index, image in enumerate(self.images) if image.tobytes() not in trained_on]
        if not kept:
            return None
        return CalibrationPhotos(self.images[kept], tuple(self.accepted[index] for index in kept))


@dataclass(frozen=True, eq=False)
class NoveltyRule:
    """When a model says "probably none of the ten", and what that was set on."""

    energy_below: float
    set_on: str
    detector: photo_detector.Detector | None = None
    familiarity_below: float | None = None


def energy(logits: np.ndarray, temperature: float) -> np.ndarray:
    """T * logsumexp(logits / T) per row: higher is more like the ten classes."""
    scaled = logits / temperature
    peak = scaled.max(axis=1, keepdims=True)
    return temperature * (peak[:, 0] + np.log(np.exp(scaled - peak).sum(axis=1)))


def load_calibration_photos(root: Path | str) -> CalibrationPhotos:
    """The tune split of a folder of labelled photos (one folder per kind), preprocessed as uploads are."""
    # Imported here: training without photos needs neither OpenCV's segmentation nor Pillow's decoders.
    from mlmodel.clothing_photos import list_photos
    from mlmodel.preprocessing import open_image, to_model_input

    photos = list_photos(root, "tune")
    if not any(photo.in_classes for photo in photos):
        raise FileNotFoundError(f"No photos of the ten classes in the tune split of {root}")
    images = np.stack([to_model_input(open_image(photo.path.read_bytes())).pixels for photo in photos])
    accepted = tuple(tuple(CLASS_NAMES.index(name) for name in photo.accepted) for photo in photos)
    return CalibrationPhotos(images, accepted)


def threshold(energies: np.ndarray, flagged_share: float = FLAGGED_SHARE) -> float:
    """The score below which `flagged_share` of these scores lie."""
    return float(np.quantile(energies, flagged_share))


def rule_from_photos(
    photos: CalibrationPhotos,
    features: np.ndarray,
    logits: np.ndarray,
    temperature: float,
    known_features: np.ndarray,
) -> NoveltyRule | None:
    """The rule set on real photos, given the model's features and logits of them; None when they
    hold fewer than MIN_RIGHT_ANSWERS right answers. known_features: of Fashion-MNIST training images,
    which the detector must not flag."""
    right = photos.right(logits.argmax(axis=1))
    if right.sum() < MIN_RIGHT_ANSWERS:
        return None
    energies = energy(logits, temperature)
    set_on = f"{int(right.sum())} right answers on real photos (tune split)"
    of_the_ten = photos.of_the_ten
    others = int((~of_the_ten).sum())
    if others < MIN_OTHER_PHOTOS:
        return NoveltyRule(threshold(energies[right]), set_on)
    detector, familiarity = photo_detector.fit_cross_validated(features, of_the_ten, known_features)
    energy_below = threshold(energies[right], ENERGY_FLAGGED_SHARE)
    return NoveltyRule(
        energy_below,
        f"{set_on}; photo detector fitted on them and {others} photos of other garments",
        detector,
        _second_threshold(familiarity[right], energies[right] < energy_below),
    )


def _second_threshold(scores: np.ndarray, flagged: np.ndarray) -> float:
    """The score below which, with those already flagged, FLAGGED_SHARE of all are flagged."""
    wanted = max(0, round(FLAGGED_SHARE * len(scores)) - int(flagged.sum()))
    remaining = np.sort(scores[~flagged])
    if wanted == 0:
        return float(remaining[0])
    return float((remaining[wanted - 1] + remaining[min(wanted, len(remaining) - 1)]) / 2)
