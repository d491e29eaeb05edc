"""Scores of a model's logits against true labels: accuracy, per-class figures, calibration."""

from dataclasses import dataclass

import numpy as np

from mlmodel.classes import CLASS_NAMES

CALIBRATION_BINS = 15


@dataclass(frozen=True)
class Evaluation:
    """A model's scores on one labelled set, with and without its fitted temperature."""

    accuracy: float
    loss: float  # mean cross-entropy of the uncalibrated probabilities
    confusion: np.ndarray  # confusion[true, predicted] counts, (10, 10)
    ece_before: float  # expected calibration error without temperature scaling
    ece_after: float  # ... and with the fitted temperature
    temperature: float

    @property
    def precision(self) -> np.ndarray:
        """Per class: the share of images predicted as the class that are of it."""
        predicted = self.confusion.sum(axis=0)
        return np.diag(self.confusion) / np.maximum(predicted, 1)

    @property
    def recall(self) -> np.ndarray:
        """Per class: the share of images of the class that are predicted as it."""
        return np.diag(self.confusion) / np.maximum(self.confusion.sum(axis=1), 1)

    def as_dict(self) -> dict[str, object]:
        return {
            "accuracy": self.accuracy,
            "loss": self.loss,
            "ece_before_temperature_scaling": self.ece_before,
            "ece_after_temperature_scaling": self.ece_after,
            "temperature": self.temperature,
            "per_class": {
                name: {"precision": float(precision), "recall": float(recall)}
                for name, precision, recall in zip(CLASS_NAMES, self.precision, self.recall)
            },
            "confusion_matrix": self.confusion.tolist(),
        }


def evaluate(logits: np.ndarray, labels: np.ndarray, temperature: float) -> Evaluation:
    """Score logits (n, 10) against labels (n,)."""
    predicted = logits.argmax(axis=1)
    confusion = np.zeros((len(CLASS_NAMES), len(CLASS_NAMES)), dtype=np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    return Evaluation(
        accuracy=float(np.mean(predicted == labels)),
        loss=_cross_entropy(logits, labels),
        confusion=confusion,
        ece_before=expected_calibration_error(softmax(logits), labels),
        ece_after=expected_calibration_error(softmax(logits / temperature), labels),
        temperature=temperature,
    )


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature T that minimises the cross-entropy of softmax(logits / T).

    The cross-entropy is convex in 1/T, so a golden-section search finds its minimum.
    """
    low, high = 1 / 20, 20.0  # bounds on 1/T
    ratio = (np.sqrt(5) - 1) / 2
    while high - low > 1e-5:
        left, right = high - ratio * (high - low), low + ratio * (high - low)
        if _cross_entropy(logits * left, labels) < _cross_entropy(logits * right, labels):
            high = right
        else:
            low = left
    return float(2 / (low + high))


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The gap between confidence and accuracy, averaged over equal-width confidence bins.

    Weighted by the share of images in each bin (Guo et al., 2017, with 15 bins).
    """
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    bins = np.minimum((confidence * CALIBRATION_BINS).astype(int), CALIBRATION_BINS - 1)
    error = 0.0
    for index in np.unique(bins):
        members = bins == index
        error += members.mean() * abs(confidence[members].mean() - correct[members].mean())
    return float(error)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    logits = logits.astype(np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_probabilities[np.arange(len(labels)), labels].mean())
