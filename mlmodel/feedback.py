"""Training with staff-corrected uploads as well as Fashion-MNIST, and how accuracy changed.

`train_model --include-corrections` (classifier/management/commands/train_model.py) reads the
corrected predictions on the Django side (classifier/corrections.py) and hands them here as plain
arrays: each upload's stored 28x28 model input, uint8 light on black exactly as the network saw it
and as Fashion-MNIST's own arrays are (the network rescales 0..255 itself, so nothing is scaled
here), with the staff's label.

The report compares the new model with the one that was active before the run, on the test set and
on the corrected images. The new model has trained on those images, so its figure on them says that
it learnt them, not how it does on uploads it has never seen; the test set is the held-out measure.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mlmodel import artifacts
from mlmodel.classes import CLASS_NAMES
from mlmodel.data import Dataset, LabelledImages
from mlmodel.network import model_logits
from mlmodel.novelty import CalibrationPhotos
from mlmodel.predictor import Predictor
from mlmodel.training import TrainingConfig, TrainingResult, train

_SERVING_SLICE = 500


class NoUsableCorrections(ValueError):
    """There is nothing to add to the training data; the message says why."""


@dataclass(frozen=True)
class Accuracy:
    test: float  # on the 10,000 Fashion-MNIST test images
    corrected: float  # on every corrected image found


@dataclass(frozen=True)
class FeedbackReport:
    """What a run with corrections used and how accuracy changed."""

    found: int  # distinct corrected images handed in
    trained_on: int  # of them, added to the training split
    like_test_images: int  # left out of training: identical to a Fashion-MNIST test image
    repeats: int  # copies of each in the training split
    baseline_version: str | None  # the model active before the run; None if there was none
    before: Accuracy | None
    after: Accuracy
    examples: tuple[tuple[str, str, bool], ...]  # (source, corrected label, trained on) of each

    def as_dict(self) -> dict[str, object]:
        return {
            "found": self.found,
            "trained_on": self.trained_on,
            "left_out_identical_to_test_images": self.like_test_images,
            "repeats": self.repeats,
            "baseline_version": self.baseline_version,
            "accuracy_before": _accuracy_dict(self.before),
            "accuracy_after": _accuracy_dict(self.after),
            "corrected_images_in_training_of_new_model": True,
            "examples": [
                {"source": source, "label": label, "trained_on": used}
                for source, label, used in self.examples
            ],
        }


def train_with_corrections(
    config: TrainingConfig,
    dataset: Dataset,
    corrected: LabelledImages,
    model_dir: Path | str,
    *,
    calibration: CalibrationPhotos | None = None,
    initial_weights: Path | None = None,
    verbose: int = 1,
) -> tuple[TrainingResult, FeedbackReport]:
    """Train on Fashion-MNIST plus the corrected images; measure before and after.

    "Before" is the version active in `model_dir` when the run starts. Raises NoUsableCorrections
    when there are no corrected images, or when every one is a Fashion-MNIST test image.
    """
    if len(corrected) == 0:
        raise NoUsableCorrections("No corrected predictions were found: there is nothing to add.")
    like_test = identical_to_test_images(corrected, dataset)
    if like_test.all():
        raise NoUsableCorrections(
            f"All {len(corrected)} corrected images are identical to Fashion-MNIST test images; training "
            "on them would leak the test set into training."
        )
    baseline_version, before = _baseline(model_dir, dataset, corrected)
    result = train(
        config,
        dataset,
        extra=corrected.subset(~like_test),
        calibration=calibration,
        initial_weights=initial_weights,
        verbose=verbose,
    )
    predicted = model_logits(result.model, corrected.images).argmax(axis=1)
    after_corrected = float(np.mean(predicted == corrected.labels))
    sources = corrected.sources or tuple(str(n) for n in range(len(corrected)))
    feedback = FeedbackReport(
        found=len(corrected),
        trained_on=result.extra_examples,
        like_test_images=int(like_test.sum()),
        repeats=result.extra_repeats,
        baseline_version=baseline_version,
        before=before,
        after=Accuracy(test=result.test_accuracy, corrected=after_corrected),
        examples=tuple(
            (source, CLASS_NAMES[label], not excluded)
            for source, label, excluded in zip(sources, corrected.labels, like_test)
        ),
    )
    return result, feedback


def identical_to_test_images(examples: LabelledImages, dataset: Dataset) -> np.ndarray:
    """Which examples are pixel for pixel a test image (an uploaded test image, say).

    Those stay out of training: the test accuracy would otherwise measure memory, not skill.
    """
    test_images = {image.tobytes() for image in dataset.x_test}
    return np.array([image.tobytes() in test_images for image in examples.images], dtype=bool)


def _baseline(
    model_dir: Path | str, dataset: Dataset, corrected: LabelledImages
) -> tuple[str | None, Accuracy | None]:
    """The active version and its accuracy, measured as the site serves it (its LiteRT export)."""
    try:
        version = artifacts.active_version(model_dir)
    except (FileNotFoundError, ValueError):
        return None, None
    predictor = Predictor.load(version, model_dir)
    return version, Accuracy(
        test=served_accuracy(predictor, dataset.x_test, dataset.y_test),
        corrected=served_accuracy(predictor, corrected.images, corrected.labels),
    )


def served_accuracy(predictor: Predictor, images: np.ndarray, labels: np.ndarray) -> float:
    # In slices: the interpreter sizes every layer's tensors for the whole batch it is given.
    predicted = [
        found.label_index
        for start in range(0, len(images), _SERVING_SLICE)
        for found in predictor.classify(np.ascontiguousarray(images[start : start + _SERVING_SLICE]))
    ]
    return float(np.mean(np.array(predicted) == labels))


def _accuracy_dict(accuracy: Accuracy | None) -> dict[str, float] | None:
    if accuracy is None:
        return None
    return {"test": accuracy.test, "corrected_images": accuracy.corrected}
