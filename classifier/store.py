"""Writing predictions: the rows of one upload (recorded, deleted, backfilled, bulk-loaded by the
benchmarks alike) and the staff's corrections.

`UploadRows` names each row an upload writes by its role, so the rule "lookup rows and images first,
the prediction row last" (and its reverse for deletion) is written once, in `record` and `delete`.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from . import cql
from .cql import Query
from .models import (
    SHA256_BUCKET_DIGITS,
    UPLOAD_COLUMNS,
    Prediction,
    PredictionByFilename,
    PredictionBySha256,
    PredictionBySha256Prefix,
    PredictionExplanation,
    PredictionHour,
    PredictionHourByModelVersion,
    PredictionImages,
    SuggestionByVisitor,
    name_key,
    partition_of,
)

_REQUIRED = frozenset(name for name in UPLOAD_COLUMNS if Prediction._columns[name].required)


def upload_values(values: Mapping[str, object]) -> dict[str, object]:
    """Every UPLOAD_COLUMNS value of a prediction; a column that is not required may be left out (null)."""
    return {name: values[name] if name in _REQUIRED else values.get(name) for name in UPLOAD_COLUMNS}


@dataclass(frozen=True)
class UploadRows:
    """The statements for every row of one upload, by role.

    `prediction` is its row of `prediction`, the one every reader starts from or checks; `lookups`
    are its rows in the lookup tables (repeat uploads, the hour lists, filename and SHA-256 search);
    `images` its model input, thumbnail and second look (when taken), when given.
    """

    prediction: Query
    lookups: tuple[Query, ...]
    images: Query | None = None

    @classmethod
    def inserts(
        cls, values: Mapping[str, object], images: Mapping[str, bytes | None] | None = None
    ) -> UploadRows:
        """The INSERTs of a prediction with these values (UPLOAD_COLUMNS) and, if given, its images
        (PredictionImages' columns by name; one that is None is not written)."""
        prediction_id = values["id"]
        day, hour = partition_of(prediction_id)
        key = name_key(values["filename"])
        sha256, model_version = values["sha256"], values["model_version"]
        filterable = (values["label"], model_version, values["confidence"])
        prediction = (
            f"INSERT INTO {cql.table(Prediction)} (day, hour, {', '.join(UPLOAD_COLUMNS)}) "
            f"VALUES (?, ?, {', '.join('?' * len(UPLOAD_COLUMNS))})",
            (day, hour, *upload_values(values).values()),
        )
        lookups = (
            (
                f"INSERT INTO {cql.table(PredictionBySha256)} (sha256, model_version, id) VALUES (?, ?, ?)",
                (sha256, model_version, prediction_id),
            ),
            (
                f"INSERT INTO {cql.table(PredictionHour)} (year, day, hour) VALUES (?, ?, ?)",
                (day.year, day, hour),
            ),
            (
                f"INSERT INTO {cql.table(PredictionHourByModelVersion)} (model_version, year, day, hour) "
                "VALUES (?, ?, ?, ?)",
                (model_version, day.year, day, hour),
            ),
            (
                f"INSERT INTO {cql.table(PredictionByFilename)} "
                "(day, initial, name_key, id, label, model_version, confidence) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (day, key[:1], key, prediction_id, *filterable),
            ),
            (
                f"INSERT INTO {cql.table(PredictionBySha256Prefix)} "
                "(bucket, sha256, id, label, model_version, confidence) VALUES (?, ?, ?, ?, ?, ?)",
                (sha256[:SHA256_BUCKET_DIGITS], sha256, prediction_id, *filterable),
            ),
        )
        image_row = None
        if images is not None:
            # A column left out rather than bound to null: a null writes a tombstone.
            given = {name: image for name, image in images.items() if image is not None}
            image_row = (
                f"INSERT INTO {cql.table(PredictionImages)} (id, {', '.join(given)}) "
                f"VALUES (?, {', '.join('?' * len(given))})",
                (prediction_id, *given.values()),
            )
        return cls(prediction, lookups, image_row)

    @classmethod
    def deletes(cls, prediction: Prediction) -> UploadRows:
        """The DELETEs of a stored prediction's rows. The hour lists keep theirs (models/predictions.py)."""
        key = name_key(prediction.filename)
        day, hour = partition_of(prediction.id)
        return cls(
            prediction=(
                f"DELETE FROM {cql.table(Prediction)} WHERE day = ? AND hour = ? AND id = ?",
                (day, hour, prediction.id),
            ),
            lookups=(
                (
                    f"DELETE FROM {cql.table(PredictionBySha256)} "
                    "WHERE sha256 = ? AND model_version = ? AND id = ?",
                    (prediction.sha256, prediction.model_version, prediction.id),
                ),
                (
                    f"DELETE FROM {cql.table(PredictionByFilename)} "
                    "WHERE day = ? AND initial = ? AND name_key = ? AND id = ?",
                    (day, key[:1], key, prediction.id),
                ),
                (
                    f"DELETE FROM {cql.table(PredictionBySha256Prefix)} "
                    "WHERE bucket = ? AND sha256 = ? AND id = ?",
                    (prediction.sha256[:SHA256_BUCKET_DIGITS], prediction.sha256, prediction.id),
                ),
                # Not a lookup, but like one made from the prediction: its heat map, if computed.
                (f"DELETE FROM {cql.table(PredictionExplanation)} WHERE id = ?", (prediction.id,)),
            ),
            images=(f"DELETE FROM {cql.table(PredictionImages)} WHERE id = ?", (prediction.id,)),
        )

    def queries(self) -> list[Query]:
        """Every statement, in the order an upload writes them (the benchmarks' bulk load)."""
        return [*self.lookups, *([self.images] if self.images else []), self.prediction]


def record(values: Mapping[str, object], images: Mapping[str, bytes | None]) -> Prediction:
    """Write a prediction: its images and lookup rows first, then the prediction row itself; return it.

    Every reader starts from the prediction row or checks it (a lookup row leads to an id that is then
    read from `prediction`), so the prediction shows up only once all its rows exist, and a write cut
    short leaves rows nobody reaches. Not a logged batch: its batch log must reach two other live
    nodes, so in a three-node cluster every upload failed until a crashed node was convicted, and on
    one node it costs extra commit-log syncs. The lookup rows and the images go in one unlogged batch:
    each request costs the driver and the node far more than its rows do (bench/README.md), so one
    request instead of six. A thumbnail can take that batch past the 5 KiB at which Cassandra warns by
    default; the local node warns from 64 KiB (cassandra.yaml.template), far above an upload's rows.
    """
    rows = UploadRows.inserts(values, images)
    cql.session().execute(cql.unlogged_batch([*rows.lookups, rows.images]))
    cql.execute(*rows.prediction)
    day, hour = partition_of(values["id"])
    return Prediction(**upload_values(values), day=day, hour=hour)


def delete(prediction: Prediction) -> None:
    """Remove a prediction from every table: first its own row, so that it is gone for every reader
    at once (the order of `record`, reversed), then its images and lookup rows."""
    rows = UploadRows.deletes(prediction)
    cql.execute(*rows.prediction)
    cql.session().execute(cql.unlogged_batch([rows.images, *rows.lookups]))


def correct(prediction_id: uuid.UUID, label: str, by: str, at: datetime.datetime) -> bool:
    """Record a staff correction of the label (only those three columns); False if the prediction is gone."""
    day, hour = partition_of(prediction_id)
    result = cql.execute(
        f"UPDATE {cql.table(Prediction)} SET corrected_label = ?, corrected_by = ?, corrected_at = ? "
        "WHERE day = ? AND hour = ? AND id = ? IF EXISTS",
        (label, by, at, day, hour, prediction_id),
    )
    return result.was_applied


def clear_correction(prediction_id: uuid.UUID) -> bool:
    """Remove a correction; False if the prediction is gone."""
    day, hour = partition_of(prediction_id)
    result = cql.execute(
        f"DELETE corrected_label, corrected_by, corrected_at FROM {cql.table(Prediction)} "
        "WHERE day = ? AND hour = ? AND id = ? IF EXISTS",
        (day, hour, prediction_id),
    )
    return result.was_applied


def save_explanation(
    prediction_id: uuid.UUID, method: str, sensitivity: bytes, probability: float, lowest: float
) -> None:
    """Keep a computed heat map (explanations.py). Two requests computing it at once write the same row."""
    cql.execute(
        f"INSERT INTO {cql.table(PredictionExplanation)} "
        "(id, method, sensitivity, probability, lowest, computed_at) "
        "VALUES (?, ?, ?, ?, ?, toTimestamp(now()))",
        (prediction_id, method, sensitivity, probability, lowest),
    )


def suggest(prediction_id: uuid.UUID, label: str, at: datetime.datetime) -> bool:
    """Record a visitor's suggestion of the true class (only those two columns; a later one replaces
    it); False if the prediction is gone. Not a correction: staff accept it as one (admin)."""
    day, hour = partition_of(prediction_id)
    result = cql.execute(
        f"UPDATE {cql.table(Prediction)} SET suggested_label = ?, suggested_at = ? "
        "WHERE day = ? AND hour = ? AND id = ? IF EXISTS",
        (label, at, day, hour, prediction_id),
    )
    return result.was_applied


def count_suggestion(visitor: str) -> None:
    """Note that a visitor sent a suggestion; the row expires after an hour (the table's TTL)."""
    cql.execute(f"INSERT INTO {cql.table(SuggestionByVisitor)} (visitor, id) VALUES (?, now())", (visitor,))
