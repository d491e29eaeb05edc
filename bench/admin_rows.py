"""The predictions bench/admin_scale.py loads, and loading them into its keyspace on the test node.

Rows are generated deterministically per chunk (chunk_rows; what they hold: admin_scale's docstring),
written as the rows an upload writes (store.UploadRows) in unlogged single-partition batches
(statements_of_chunk), and each finished chunk is checkpointed in `bench_load_state` (load), so a
load resumes where it stopped.

Imported by bench.admin_scale after `django.setup()` with the test settings.
"""

from __future__ import annotations

import datetime
import json
import time
import uuid
from collections.abc import Callable

import numpy as np
from cassandra.cluster import Session
from cassandra.concurrent import execute_concurrent
from cassandra.query import BatchStatement, BatchType, PreparedStatement

from classifier import store
from mlmodel.classes import CLASS_NAMES

KEYSPACE = "bench_admin_scale"
CHUNK = 10_000  # rows generated and written (and checkpointed) together
MODEL_VERSIONS = ["20261001-090000", "20261020-141500", "20261125-113945"]
LABEL_WEIGHTS = [0.14, 0.06, 0.10, 0.09, 0.10, 0.07, 0.12, 0.12, 0.11, 0.09]
# Share of the day's uploads in each UTC hour: quiet nights, busy afternoons and evenings.
HOUR_WEIGHTS = np.array(
    [2, 1.5, 1, 1, 1, 1.5, 2.5, 4, 5, 5.5, 6, 6, 6.5, 6.5, 6, 6, 6.5, 7, 7.5, 7.5, 7, 6, 4.5, 3]
)
PREPROCESSING = json.dumps(
    {"source_size": [800, 800], "source_mode": "RGB", "inverted": True, "background_level": 231,
     "scaled_size": [20, 20], "peak_level": 255}
)  # fmt: skip
WORDS = [
    "blue dress",
    "red shirt",
    "old coat",
    "my sneakers",
    "new bag",
    "boots",
    "jeans",
    "pullover",
    "sandals",
]


def chunk_rows(chunk: int, first_day: datetime.date, days: int) -> list[dict]:
    """The rows of one chunk: the same every time for the same chunk number."""
    rng = np.random.default_rng(chunk)
    n = CHUNK
    day_offsets = rng.integers(0, days, n)
    hours = rng.choice(24, n, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    seconds = rng.integers(0, 3600, n)
    micros = rng.integers(0, 1_000_000, n)
    labels = rng.choice(len(CLASS_NAMES), n, p=LABEL_WEIGHTS)
    confidence = np.clip(rng.beta(6, 0.9, n), 0.2, 0.99999).astype(np.float32)
    kinds = rng.choice(6, n, p=[0.38, 0.15, 0.10, 0.22, 0.10, 0.05])
    numbers = rng.integers(0, 100_000, n)
    digests = rng.bytes(32 * n)
    rows = []
    for i in range(n):
        day = first_day + datetime.timedelta(days=int(day_offsets[i]))
        when = datetime.datetime(day.year, day.month, day.day, int(hours[i]), tzinfo=datetime.UTC)
        when += datetime.timedelta(seconds=int(seconds[i]), microseconds=int(micros[i]))
        # A time UUID whose node and clock sequence come from the row number: unique and repeatable.
        row_number = chunk * CHUNK + i
        prediction_id = uuid_at(when, node=row_number, clock_seq=chunk % 0x3FFF)
        kind, number = int(kinds[i]), int(numbers[i])
        stamp = when.strftime("%Y%m%d_%H%M%S")
        filename = [
            f"IMG_{stamp}.jpg",
            f"DSC{number:05d}.JPG",
            f"photo-{number}.png",
            f"{WORDS[number % len(WORDS)]} {number % 40}.jpg",
            f"Screenshot {when:%Y-%m-%d} at {when:%H.%M.%S}.png",
            "image.png",
        ][kind]
        label = int(labels[i])
        top = float(confidence[i])
        rest = (1 - top) / 9
        version = MODEL_VERSIONS[min(2, int(day_offsets[i]) * 3 // days)]
        rows.append(
            {
                "id": prediction_id,
                "filename": filename,
                "label": CLASS_NAMES[label],
                "label_index": label,
                "confidence": top,
                "probabilities": [top if c == label else rest for c in range(10)],
                "model_version": version,
                "sha256": digests[32 * i : 32 * i + 32].hex(),
                "image_format": "PNG" if filename.endswith(".png") else "JPEG",
                "image_width": 3024 if kind == 0 else 800,
                "image_height": 4032 if kind == 0 else 800,
                "preprocessing": PREPROCESSING,
            }
        )  # fmt: skip
    return rows


def uuid_at(when: datetime.datetime, node: int, clock_seq: int) -> uuid.UUID:
    from cassandra.util import uuid_from_time

    return uuid_from_time(when, node=node & 0xFFFFFFFFFFFF, clock_seq=clock_seq)


# Partition key columns leading each insert's values (store.UploadRows): rows of one partition are
# written as one unlogged single-partition batch, a single mutation for the node.
PARTITION_KEY_ARITY = {
    "prediction": 2,
    "prediction_by_filename": 2,
    "prediction_by_sha256": 1,
    "prediction_by_sha256_prefix": 1,
    "prediction_hours": 1,
    "prediction_hours_by_model_version": 2,
}
BATCH_ROWS = 10


def statements_of_chunk(
    rows: list[dict], prepare: Callable[[str], PreparedStatement], hours_written: set
) -> tuple[list, int]:
    """The requests that write these predictions' rows, and how many table rows they write."""
    groups: dict[tuple, list[tuple]] = {}
    for row in rows:
        for cql, values in store.UploadRows.inserts(row).queries():
            values = tuple(values)
            table = cql.split(" ")[2].split(".")[-1]
            if table.startswith("prediction_hours"):  # one row per hour, however many predictions it holds
                if values in hours_written:
                    continue
                hours_written.add(values)
            groups.setdefault((cql, values[: PARTITION_KEY_ARITY[table]]), []).append(values)
    statements, table_rows = [], 0
    for (cql, _), rows_of_partition in groups.items():
        table_rows += len(rows_of_partition)
        statement = prepare(cql)
        for start in range(0, len(rows_of_partition), BATCH_ROWS):
            part = rows_of_partition[start : start + BATCH_ROWS]
            if len(part) == 1:
                statements.append(statement.bind(part[0]))
            else:
                batch = BatchStatement(batch_type=BatchType.UNLOGGED)
                for values in part:
                    batch.add(statement, values)
                statements.append(batch)
    return statements, table_rows


def load(session: Session, rows_wanted: int, days: int, concurrency: int) -> bool:
    """Write the missing chunks (each finished one is checkpointed in bench_load_state); True if any."""
    session.execute(
        f"CREATE TABLE IF NOT EXISTS {KEYSPACE}.bench_load_state "
        "(name text PRIMARY KEY, first_day date, days int, chunks set<int>)"
    )
    state = session.execute(f"SELECT * FROM {KEYSPACE}.bench_load_state WHERE name = 'load'").one()
    if state is None:
        first_day = datetime.datetime.now(datetime.UTC).date() - datetime.timedelta(days=days)
        session.execute(
            f"INSERT INTO {KEYSPACE}.bench_load_state (name, first_day, days, chunks) "
            "VALUES ('load', %s, %s, {})",
            (first_day, days),
        )
        done: set[int] = set()
    else:
        first_day, days, done = state.first_day.date(), state.days, set(state.chunks or ())
    missing = [chunk for chunk in range(rows_wanted // CHUNK) if chunk not in done]
    print(
        f"{len(done) * CHUNK:,} rows loaded already ({first_day} + {days} days); "
        f"{len(missing) * CHUNK:,} to load"
    )
    if not missing:
        return False
    prepared: dict[str, object] = {}

    def prepare(cql: str):
        if cql not in prepared:
            prepared[cql] = session.prepare(cql)
        return prepared[cql]

    hours_written: set[tuple] = set()
    started, written_rows, writes = time.perf_counter(), 0, 0
    for chunk in missing:
        statements, table_rows = statements_of_chunk(
            chunk_rows(chunk, first_day, days), prepare, hours_written
        )
        arguments = [(statement, ()) for statement in statements]
        for success, result in execute_concurrent(session, arguments, concurrency=concurrency):
            if not success:
                raise result
        writes += table_rows
        session.execute(
            f"UPDATE {KEYSPACE}.bench_load_state SET chunks = chunks + {{{chunk}}} WHERE name = 'load'"
        )
        written_rows += CHUNK
        elapsed = time.perf_counter() - started
        print(
            f"  {len(done) * CHUNK + written_rows:>9,} rows  {written_rows / elapsed:7,.0f} predictions/s  "
            f"{writes / elapsed:7,.0f} rows written/s  ({len(statements):,} requests for this chunk)",
            flush=True,
        )
    elapsed = time.perf_counter() - started
    print(
        f"Loaded {written_rows:,} predictions ({writes:,} table rows) in {elapsed:.0f} s: "
        f"{written_rows / elapsed:,.0f} predictions/s, {writes / elapsed:,.0f} rows written/s"
    )
    return True


def settle(session: Session, timeout: float) -> None:
    """Flush the bench tables' memtables and wait for compactions, as on a node that has run for a while.

    There is no nodetool here (no JMX): a short memtable_flush_period_in_ms makes the node flush them.
    """
    tables = [
        row.table_name
        for row in session.execute(
            "SELECT table_name FROM system_schema.tables WHERE keyspace_name = %s", (KEYSPACE,)
        )
    ]
    for table in tables:
        session.execute(f"ALTER TABLE {KEYSPACE}.{table} WITH memtable_flush_period_in_ms = 1000")
    started = time.perf_counter()
    time.sleep(5)
    for table in tables:
        session.execute(f"ALTER TABLE {KEYSPACE}.{table} WITH memtable_flush_period_in_ms = 0")
    while time.perf_counter() - started < timeout:
        pools = {
            row.name: row.active_tasks + row.pending_tasks
            for row in session.execute(
                "SELECT name, active_tasks, pending_tasks FROM system_views.thread_pools"
            )
        }
        compacting = [
            row
            for row in session.execute("SELECT * FROM system_views.sstable_tasks")
            if row.keyspace_name == KEYSPACE
        ]
        busy = pools.get("MemtableFlushWriter", 0) + pools.get("MemtablePostFlush", 0) + len(compacting)
        if not busy:
            break
        time.sleep(2)
    print(f"Flushed and compacted in {time.perf_counter() - started:.0f} s")
