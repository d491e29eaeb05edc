"""The report of a training run, written next to its model: JSON figures, two PNG charts, a summary."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from mlmodel.artifacts import CONFUSION_MATRIX_FILE, REPORT_FILE, TRAINING_CURVES_FILE
from mlmodel.classes import CLASS_NAMES

if TYPE_CHECKING:  # annotations only (neither module imports this one): no TensorFlow here
    from mlmodel.feedback import FeedbackReport
    from mlmodel.training import TrainingResult


def write_report(result: TrainingResult, directory: Path, feedback: FeedbackReport | None = None) -> None:
    """Write report.json, confusion_matrix.png and training_curves.png into directory (with what a
    run with corrections used, when `feedback` is given); artifacts.read_report reads them back."""
    report = {
        "test": result.test.as_dict(),
        "parameter_count": result.model.count_params(),
        "wall_time_s": round(result.wall_time_s, 1),
        "precision": result.precision,
        "config": asdict(result.config),
        "history": result.history,
        "none_of_the_ten": {
            "energy_below": result.none_of_the_ten.energy_below,
            "familiarity_below": result.none_of_the_ten.familiarity_below,
            "set_on": result.none_of_the_ten.set_on,
        },
    }
    if feedback is not None:
        report["corrections"] = feedback.as_dict()
    (directory / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n")
    _confusion_matrix_figure(result.test.confusion).savefig(directory / CONFUSION_MATRIX_FILE, dpi=100)
    _training_curves_figure(result.history).savefig(directory / TRAINING_CURVES_FILE, dpi=100)


def summary(result: TrainingResult, feedback: FeedbackReport | None = None) -> str:
    """A few lines for the terminal: the figures of report.json without the history."""
    test = result.test
    lines = [
        f"  test accuracy  {test.accuracy:.4f} (loss {test.loss:.4f})",
        (
            f"  calibration    ECE {test.ece_before:.4f} before, {test.ece_after:.4f} after "
            f"temperature scaling (T = {test.temperature:.3f}, fitted on the validation split)"
        ),
        f"  none of ten    {_rule_in_words(result)}, set on {result.none_of_the_ten.set_on}",
        f"  parameters     {result.model.count_params():,}",
        f"  wall time      {result.wall_time_s:.1f} s ({result.config.epochs} epochs, {result.precision})",
        f"  {'class':<14} precision  recall",
    ]
    for name, precision, recall in zip(CLASS_NAMES, test.precision, test.recall):
        lines.append(f"  {name:<14} {precision:>9.4f} {recall:>7.4f}")
    if feedback is not None:
        lines += feedback_summary(feedback)
    return "\n".join(lines)


def _rule_in_words(result: TrainingResult) -> str:
    rule = result.none_of_the_ten
    if rule.familiarity_below is None:
        return f"energy below {rule.energy_below:.3f}"
    return f"energy below {rule.energy_below:.3f} or familiarity below {rule.familiarity_below:.3f}"


def feedback_summary(feedback: FeedbackReport) -> list[str]:
    """How many corrected images were used, and accuracy before and after on both sets."""
    lines = [
        f"  corrections    {feedback.trained_on} corrected images used in training "
        f"(x{feedback.repeats}), of {feedback.found} found",
    ]
    if feedback.like_test_images:
        lines.append(
            f"                 {feedback.like_test_images} left out: identical to Fashion-MNIST test images"
        )
    after = feedback.after
    if feedback.before is None:
        lines.append("  accuracy       no model was active before this run; this run's:")
        lines.append(f"    test set          {after.test:.4f}")
        lines.append(f"    corrected images  {after.corrected:.4f} (trained on them)")
        return lines
    before = feedback.before
    lines += [
        f"  accuracy       before (active {feedback.baseline_version}) -> after",
        f"    test set          {before.test:.4f} -> {after.test:.4f} ({_points(after.test - before.test)})",
        (
            f"    corrected images  {before.corrected:.4f} -> {after.corrected:.4f} "
            f"({_points(after.corrected - before.corrected)}; the new model trained on them)"
        ),
    ]
    return lines


def _points(change: float) -> str:
    return f"{change * 100:+.2f} points"


def _confusion_matrix_figure(confusion: np.ndarray) -> Figure:
    figure = Figure(figsize=(8, 7), layout="constrained")
    axes = figure.subplots()
    image = axes.imshow(confusion, cmap="Blues")
    figure.colorbar(image, ax=axes, shrink=0.8)
    ticks = range(len(CLASS_NAMES))
    axes.set_xticks(ticks, CLASS_NAMES, rotation=45, ha="right")
    axes.set_yticks(ticks, CLASS_NAMES)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    accuracy = np.trace(confusion) / confusion.sum()
    axes.set_title(f"Test set confusion matrix ({confusion.sum():,} images, accuracy {accuracy:.2%})")
    threshold = confusion.max() / 2
    for (true, predicted), count in np.ndenumerate(confusion):
        colour = "white" if count > threshold else "black"
        axes.text(predicted, true, str(count), ha="center", va="center", color=colour, fontsize=8)
    return figure


def _training_curves_figure(history: dict[str, list[float]]) -> Figure:
    figure = Figure(figsize=(10, 4), layout="constrained")
    epochs = range(1, len(history["loss"]) + 1)
    for axes, metric in zip(figure.subplots(1, 2), ("loss", "accuracy")):
        axes.plot(epochs, history[metric], marker=".", label="training (augmented)")
        axes.plot(epochs, history[f"val_{metric}"], marker=".", label="validation")
        axes.set_xlabel("epoch")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_title(metric)
        axes.grid(alpha=0.3)
        axes.legend()
    return figure
