"""The probability bar chart shown on a result page."""

import io
from collections.abc import Sequence

from matplotlib.figure import Figure

from mlmodel.classes import CLASS_NAMES


def probability_chart_png(probabilities: Sequence[float]) -> bytes:
    # Figure rather than pyplot: pyplot keeps global state, which is not safe across request threads.
    figure = Figure(figsize=(6, 3.4), dpi=100, layout="constrained")
    axes = figure.subplots()
    best = max(range(len(probabilities)), key=probabilities.__getitem__)
    colours = ["#417690" if index == best else "#9fb8c8" for index in range(len(probabilities))]
    bars = axes.barh(CLASS_NAMES, probabilities, color=colours)
    axes.bar_label(bars, labels=[f"{p:.1%}" for p in probabilities], padding=3, fontsize=8)
    axes.invert_yaxis()
    axes.set_xlim(0, 1.15)
    axes.set_xlabel("probability")
    axes.spines[["top", "right"]].set_visible(False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
