"""Predictions as CSV, streamed: rows are formatted as Cassandra pages them in, never all in memory.

The columns are the model's (models.COLUMNS, in their order), each written by its type, so a column
added to `Prediction` is exported without a change here. Three are spread out for spreadsheets: the
id is followed by its time, the confidence by whether it counts as uncertain, and the probabilities
become one column per class.
"""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterable, Iterator

from cassandra.cqlengine import columns
from cassandra.util import datetime_from_uuid1

from mlmodel.classes import CLASS_NAMES

from .models import COLUMNS, Prediction

# The partition key is the id's own time: no column of its own in the export.
EXPORTED = [name for name in COLUMNS if not Prediction._columns[name].partition_key]
SPREAD = {
    "id": ["id", "created_at"],
    "confidence": ["confidence", "uncertain"],
    "probabilities": [f"p_{name}" for name in CLASS_NAMES],
}
HEADER = [header for name in EXPORTED for header in SPREAD.get(name, [name])]

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


def _cells(name: str, value: object, uncertain_below: float) -> list[object]:
    column = Prediction._columns[name]
    if name == "id":
        return [value, datetime_from_uuid1(value).replace(tzinfo=datetime.UTC).isoformat()]
    if name == "confidence":
        return [f"{value:.6f}", int(value < uncertain_below)]
    if value is None:
        return [""]
    if isinstance(column, columns.List):
        return [f"{item:.6f}" for item in value]
    if isinstance(column, columns.Float):
        return [f"{value:.6f}"]
    if isinstance(column, columns.DateTime):
        return [_timestamp(value)]
    if isinstance(column, columns.Text):
        return [_text(value)]
    return ["" if value is None else value]


def csv_line(row: dict, uncertain_below: float) -> list[object]:
    """One stored prediction (a row of `prediction`) as CSV cells, in HEADER order."""
    return [cell for name in EXPORTED for cell in _cells(name, row.get(name), uncertain_below)]


def csv_lines(rows: Iterable[dict], uncertain_below: float) -> Iterator[str]:
    """The header, then one CSV line per row, each as soon as its row arrives."""
    writer = csv.writer(_Echo())
    yield writer.writerow(HEADER)
    for row in rows:
        yield writer.writerow(csv_line(row, uncertain_below))
