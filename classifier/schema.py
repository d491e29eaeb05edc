"""The part of the schema that `sync_cassandra` cannot create: the storage-attached indexes (SAI).

cqlengine's sync_table creates tables and adds columns, but knows nothing of SAI. `ensure_indexes()`
creates them (idempotent: IF NOT EXISTS) and waits until they answer queries. It runs from
`manage.py sync_schema` (sync_cassandra, then this) and, for the test keyspace, from the suite's
`django_db_setup` fixture.

`backfill()` writes the lookup rows (the hour lists, prediction_by_filename,
prediction_by_sha256_prefix) of predictions stored before those tables existed. It is the one
place that reads the whole `prediction` table (token-range paging, as a migration does), and it
runs only when `sync_schema` finds predictions but no listed hour, or when asked to.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from cassandra.concurrent import execute_concurrent

from . import cql
from .models import UPLOAD_COLUMNS, Prediction, PredictionHour
from .store import UploadRows

# (index name, table model, column): every filter of the admin's browse, combined with the
# (day, hour) partition key, is answered by these. The one on corrected_label answers "which
# predictions did staff correct" across all partitions (train_model --include-corrections); the one
# on suggested_at the admin's filter of predictions with a visitor's suggestion.
INDEXES = [
    ("prediction_label_sai", Prediction, "label"),
    ("prediction_model_version_sai", Prediction, "model_version"),
    ("prediction_confidence_sai", Prediction, "confidence"),
    ("prediction_corrected_label_sai", Prediction, "corrected_label"),
    ("prediction_suggested_at_sai", Prediction, "suggested_at"),
]


def index_statements() -> list[str]:
    return [
        f"CREATE CUSTOM INDEX IF NOT EXISTS {name} ON {cql.table(model)} ({column}) "
        "USING 'StorageAttachedIndex'"
        for name, model, column in INDEXES
    ]


def ensure_indexes(timeout: float = 120, log: Callable[[str], None] = lambda message: None) -> None:
    """Create the SAI indexes that are missing, then wait until every one answers queries on every node."""
    session = cql.session()
    for statement in index_statements():
        log(statement)
        session.execute(statement, timeout=timeout)
    keyspace = Prediction._get_keyspace()
    wanted = {name for name, _, _ in INDEXES}
    deadline = time.monotonic() + timeout
    while missing := _not_queryable(session, keyspace, wanted):
        if time.monotonic() > deadline:
            raise TimeoutError(f"SAI indexes still building after {timeout:.0f}s: {missing}")
        time.sleep(0.2)


def _not_queryable(session, keyspace: str, wanted: set[str]) -> list[str]:
    """The wanted indexes some live node cannot answer queries with yet (index builds are per node)."""
    missing = set()
    hosts = [host for host in session.cluster.metadata.all_hosts() if host.is_up] or [None]
    for host in hosts:
        rows = session.execute(
            "SELECT index_name, is_queryable FROM system_views.sai_column_indexes WHERE keyspace_name = %s",
            (keyspace,),
            host=host,
        )
        missing |= wanted - {row["index_name"] for row in rows if row["is_queryable"]}
    return sorted(missing)


def needs_backfill() -> bool:
    """Predictions exist but no hour is listed: they predate the lookup tables."""
    any_prediction = cql.execute(f"SELECT id FROM {cql.table(Prediction)} LIMIT 1").one()
    any_hour = cql.execute(f"SELECT day FROM {cql.table(PredictionHour)} LIMIT 1").one()
    return any_prediction is not None and any_hour is None


def backfill(log: Callable[[str], None] = lambda message: None) -> int:
    """Write the lookup rows of every stored prediction (idempotent); return how many were done."""
    done = 0
    rows = cql.execute(f"SELECT {', '.join(UPLOAD_COLUMNS)} FROM {cql.table(Prediction)}", fetch_size=500)
    batch: list[tuple] = []
    for row in rows:
        # Only the lookup rows: the prediction row itself stays as it is.
        for statement, values in UploadRows.inserts(row).lookups:
            batch.append((cql.prepare(statement), tuple(values)))
        done += 1
        if len(batch) >= 500:
            _write(batch)
            batch = []
            log(f"{done} predictions")
    _write(batch)
    return done


def _write(statements: list[tuple]) -> None:
    for success, result in execute_concurrent(
        cql.session(), statements, concurrency=50, raise_on_first_error=True
    ):
        assert success, result
