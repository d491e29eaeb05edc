"""Predictions as CSV, streamed: rows are formatted as Cassandra pages them in, never all in memory."""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterable, Iterator

from cassandra.util import datetime_from_uuid1

from mlmodel.classes import CLASS_NAMES

HEADER = [
    "id", "created_at", "filename", "label", "label_index", "confidence", "uncertain", "model_version",
    "corrected_label", "corrected_by", "corrected_at", "sha256", "image_format", "image_width",
    "image_height", *(f"p_{name}" for name in CLASS_NAMES), "preprocessing",
]  # fmt: skip

# A cell starting with one of these is a formula to a spreadsheet: filenames come from uploaders.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """A file-like object whose write returns the line, so csv.writer can feed a generator."""

    def write(self, value: str) -> str:
        return value


def _text(value: str | None) -> str:
    if not value:
        return ""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _timestamp(value: datetime.datetime | None) -> str:
    return value.replace(tzinfo=datetime.UTC).isoformat() if value else ""


def csv_line(row: dict, uncertain_below: float) -> list[object]:
    """One stored prediction (a row of `prediction`) as CSV cells, in HEADER order."""
    return [
        row["id"],
        datetime_from_uuid1(row["id"]).replace(tzinfo=datetime.UTC).isoformat(),
        _text(row["filename"]),
        row["label"],
        row["label_index"],
        f"{row['confidence']:.6f}",
        int(row["confidence"] < uncertain_below),
        _text(row["model_version"]),
        row.get("corrected_label") or "",
        _text(row.get("corrected_by")),
        _timestamp(row.get("corrected_at")),
        row["sha256"],
        row["image_format"],
        row["image_width"],
        row["image_height"],
        *(f"{probability:.6f}" for probability in row["probabilities"]),
        row["preprocessing"],
    ]


def csv_lines(rows: Iterable[dict], uncertain_below: float) -> Iterator[str]:
    """The header, then one CSV line per row, each as soon as its row arrives."""
    writer = csv.writer(_Echo())
    yield writer.writerow(HEADER)
    for row in rows:
        yield writer.writerow(csv_line(row, uncertain_below))
