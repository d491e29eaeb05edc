import numpy as np
import pytest

from mlmodel.classes import CLASS_NAMES
from mlmodel.evaluation import evaluate, expected_calibration_error, fit_temperature, softmax


def sampled(temperature: float, count: int = 20000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Logits, and labels drawn from softmax(logits / temperature): calibrated at that temperature."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 4, size=(count, len(CLASS_NAMES)))
    probabilities = softmax(logits / temperature)
    labels = (probabilities.cumsum(axis=1) > rng.random((count, 1))).argmax(axis=1)
    return logits, labels


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.5])
def test_fitted_temperature_recovers_the_one_the_labels_were_drawn_at(temperature):
    logits, labels = sampled(temperature)
    assert fit_temperature(logits, labels) == pytest.approx(temperature, rel=0.05)


def test_calibration_error_is_small_when_calibrated_and_large_when_overconfident():
    logits, labels = sampled(2.0)
    assert expected_calibration_error(softmax(logits / 2.0), labels) < 0.02
    assert expected_calibration_error(softmax(logits), labels) > 0.1


def test_evaluation_counts_and_per_class_figures():
    labels = np.array([0, 0, 1, 1, 2])
    logits = np.eye(len(CLASS_NAMES))[[0, 1, 1, 1, 0]] * 5.0
    evaluation = evaluate(logits, labels, temperature=2.0)
    assert evaluation.accuracy == pytest.approx(3 / 5)
    assert (
        evaluation.confusion[0, 0] == 1
        and evaluation.confusion[0, 1] == 1
        and evaluation.confusion[2, 0] == 1
    )
    assert evaluation.precision[:3] == pytest.approx([1 / 2, 2 / 3, 0])
    assert evaluation.recall[:3] == pytest.approx([1 / 2, 1, 0])
    figures = evaluation.as_dict()
    assert figures["temperature"] == 2.0
    assert figures["per_class"]["Trouser"] == {"precision": pytest.approx(2 / 3), "recall": 1.0}
    assert figures["confusion_matrix"][2][0] == 1
