"""Cassandra through the driver: prepared statements on the session cqlengine opened.

django-cassandra-engine's querysets add ALLOW FILTERING to every query; the queries here are written
against the tables and indexes designed for them (see models.py) and never need it. Statements are
prepared once per session and CQL text; table names are read from the models on each call, so they
follow the keyspace the models use (the test runner points them at the test keyspace).

This module also knows every row an upload writes, so recording, deleting and the benchmark's
bulk load all write exactly the same rows.
"""

from __future__ import annotations

import datetime
import threading
import uuid
from collections import deque
from collections.abc import Iterable, Iterator

from cassandra.cluster import ResponseFuture, Session
from cassandra.cqlengine import connection as cqlengine_connection
from cassandra.query import BatchStatement, BatchType, BoundStatement, PreparedStatement

from .models import (
    SHA256_BUCKET_DIGITS,
    Prediction,
    PredictionByFilename,
    PredictionBySha256,
    PredictionBySha256Prefix,
    PredictionHour,
    PredictionHourByModelVersion,
    PredictionImages,
    name_key,
    partition_of,
)

Query = tuple[str, Iterable[object]]  # CQL with ? markers, and its values

_prepared: dict[Session, dict[str, PreparedStatement]] = {}
_prepared_lock = threading.Lock()


def table(model) -> str:
    """The model's table, with its keyspace."""
    return model.column_family_name(include_keyspace=True)


def session() -> Session:
    """The driver session of cqlengine's default connection (connecting on first use)."""
    return cqlengine_connection.get_connection().session


def prepare(cql: str) -> PreparedStatement:
    connection = cqlengine_connection.get_connection()
    current = connection.session
    statements = _prepared.get(current)
    if statements is None:
        with _prepared_lock:
            statements = _prepared.setdefault(current, {})
    statement = statements.get(cql)
    if statement is None:
        statement = current.prepare(cql)
        if connection.consistency is not None:
            statement.consistency_level = connection.consistency
        statements[cql] = statement
    return statement


def bind(cql: str, values: Iterable[object] = (), *, fetch_size: int | None = None) -> BoundStatement:
    statement = prepare(cql).bind(tuple(values))
    if fetch_size is not None:
        statement.fetch_size = fetch_size
    return statement


def execute(cql: str, values: Iterable[object] = (), *, fetch_size: int | None = None):
    """Run a prepared statement; rows are dicts (cqlengine's row factory). Iterating pages on."""
    return session().execute(bind(cql, values, fetch_size=fetch_size))


def execute_async(
    cql: str, values: Iterable[object] = (), *, fetch_size: int | None = None
) -> ResponseFuture:
    return session().execute_async(bind(cql, values, fetch_size=fetch_size))


def chain(
    queries: Iterable[Query], *, window: int = 1, max_window: int = 8, fetch_size: int | None = None
) -> Iterator[dict]:
    """The rows of each query in turn, while the next queries already run.

    The first `window` queries are sent at once; each time one is consumed the window doubles, up to
    `max_window`: a page that one partition fills costs one round trip, one that needs many
    partitions costs few. A consumer that stops early leaves at most `max_window` queries unread.
    """
    queries = iter(queries)
    pending: deque[ResponseFuture] = deque()

    def top_up() -> None:
        while len(pending) < window:
            query = next(queries, None)
            if query is None:
                return
            pending.append(execute_async(*query, fetch_size=fetch_size))

    top_up()
    while pending:
        yield from pending.popleft().result()  # further pages of a query are fetched as iterated
        window = min(window * 2, max_window)
        top_up()


# --- The rows of one upload --------------------------------------------------------------------


def insert_queries(values: dict, images: dict | None = None) -> list[Query]:
    """Every row one prediction writes: the prediction, its images (if given) and its lookup rows.

    `values` has the prediction's columns (day, hour and the correction columns are derived or left out).
    """
    prediction_id = values["id"]
    day, hour = partition_of(prediction_id)
    key = name_key(values["filename"])
    sha256 = values["sha256"]
    filterable = (values["label"], values["model_version"], values["confidence"])
    columns = [
        "id", "filename", "label", "label_index", "confidence", "probabilities", "model_version", "sha256",
        "image_format", "image_width", "image_height", "preprocessing",
    ]  # fmt: skip
    queries: list[Query] = [
        (
            f"INSERT INTO {table(Prediction)} (day, hour, {', '.join(columns)}) "
            f"VALUES (?, ?, {', '.join('?' * len(columns))})",
            (day, hour, *(values[name] for name in columns)),
        ),
        (
            f"INSERT INTO {table(PredictionBySha256)} (sha256, model_version, id) VALUES (?, ?, ?)",
            (sha256, values["model_version"], prediction_id),
        ),
        (f"INSERT INTO {table(PredictionHour)} (year, day, hour) VALUES (?, ?, ?)", (day.year, day, hour)),
        (
            f"INSERT INTO {table(PredictionHourByModelVersion)} (model_version, year, day, hour) "
            "VALUES (?, ?, ?, ?)",
            (values["model_version"], day.year, day, hour),
        ),
        (
            f"INSERT INTO {table(PredictionByFilename)} "
            "(day, initial, name_key, id, label, model_version, confidence) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (day, key[:1], key, prediction_id, *filterable),
        ),
        (
            f"INSERT INTO {table(PredictionBySha256Prefix)} "
            "(bucket, sha256, id, label, model_version, confidence) VALUES (?, ?, ?, ?, ?, ?)",
            (sha256[:SHA256_BUCKET_DIGITS], sha256, prediction_id, *filterable),
        ),
    ]
    if images is not None:
        queries.append(
            (
                f"INSERT INTO {table(PredictionImages)} (id, model_input_png, thumbnail_jpeg) "
                "VALUES (?, ?, ?)",
                (prediction_id, images["model_input_png"], images["thumbnail_jpeg"]),
            )
        )
    return queries


def unlogged_batch(queries: Iterable[Query]) -> BatchStatement:
    batch = BatchStatement(batch_type=BatchType.UNLOGGED)
    for cql, values in queries:
        statement = prepare(cql)
        batch.add(statement, tuple(values))
        batch.consistency_level = statement.consistency_level
    return batch


def record(values: dict, images: dict) -> Prediction:
    """Write a prediction: its images and lookup rows first, then the prediction row itself; return it.

    Every reader starts from the prediction row or checks it (a lookup row leads to an id that is then
    read from `prediction`), so the prediction shows up only once all its rows exist, and a write cut
    short leaves rows nobody reaches. Not a logged batch: its batch log must reach two other live
    nodes, so in a three-node cluster every upload failed until a crashed node was convicted, and on
    one node it costs extra commit-log syncs. The small lookup rows go in one unlogged batch (one
    request instead of five costs the node and the driver about half the CPU); the images beside it,
    since a thumbnail can take a batch past the 5 KB at which Cassandra warns.
    """
    prediction_row, *lookup_rows, images_row = insert_queries(values, images)
    images_written = execute_async(*images_row)
    session().execute(unlogged_batch(lookup_rows))
    images_written.result()
    execute(*prediction_row)
    day, hour = partition_of(values["id"])
    return Prediction._construct_instance({**values, "day": day, "hour": hour})


def delete(prediction: Prediction) -> None:
    """Remove a prediction from every table: first its own row, so that it is gone for every reader
    at once (the same order as `record`, reversed), then its images and lookup rows."""
    key = name_key(prediction.filename)
    day, hour = partition_of(prediction.id)
    execute(
        f"DELETE FROM {table(Prediction)} WHERE day = ? AND hour = ? AND id = ?", (day, hour, prediction.id)
    )
    session().execute(
        unlogged_batch(
            [
                (f"DELETE FROM {table(PredictionImages)} WHERE id = ?", (prediction.id,)),
                (
                    f"DELETE FROM {table(PredictionBySha256)} "
                    "WHERE sha256 = ? AND model_version = ? AND id = ?",
                    (prediction.sha256, prediction.model_version, prediction.id),
                ),
                (
                    f"DELETE FROM {table(PredictionByFilename)} "
                    "WHERE day = ? AND initial = ? AND name_key = ? AND id = ?",
                    (day, key[:1], key, prediction.id),
                ),
                (
                    f"DELETE FROM {table(PredictionBySha256Prefix)} "
                    "WHERE bucket = ? AND sha256 = ? AND id = ?",
                    (prediction.sha256[:SHA256_BUCKET_DIGITS], prediction.sha256, prediction.id),
                ),
            ]
        )
    )


def correct(prediction_id: uuid.UUID, label: str, by: str, at: datetime.datetime) -> bool:
    """Record a staff correction of the label (only those three columns); False if the prediction is gone."""
    day, hour = partition_of(prediction_id)
    result = execute(
        f"UPDATE {table(Prediction)} SET corrected_label = ?, corrected_by = ?, corrected_at = ? "
        "WHERE day = ? AND hour = ? AND id = ? IF EXISTS",
        (label, by, at, day, hour, prediction_id),
    )
    return result.was_applied


def clear_correction(prediction_id: uuid.UUID) -> bool:
    """Remove a correction; False if the prediction is gone."""
    day, hour = partition_of(prediction_id)
    result = execute(
        f"DELETE corrected_label, corrected_by, corrected_at FROM {table(Prediction)} "
        "WHERE day = ? AND hour = ? AND id = ? IF EXISTS",
        (day, hour, prediction_id),
    )
    return result.was_applied
