"""The admin's predictions list over a million predictions: is every page answered in 300 ms?

Loads ROWS predictions (default 1,000,000) into the keyspace `bench_admin_scale` on the *test*
Cassandra node (port 9142, data in var/cassandra-test; started here with a larger heap if it is not
running), then renders the admin's changelist in-process (PredictionAdmin.changelist_view with a
RequestFactory request and a superuser, template rendering included) and prints the p50 of each:

    the first list page of a day, the 50th older page of that day, a label filter, a filename search
    (the four the goal names), and a few more: a 30-day range, an "uncertain" + label filter over
    30 days, a model-version filter, a SHA-256 prefix search.

    .venv/bin/python bench/admin_scale.py                 # load (once; resumable), then time
    .venv/bin/python bench/admin_scale.py --repeat 15     # time again, no loading

What is loaded: the rows an upload writes (store.UploadRows: `prediction`, `prediction_by_sha256`,
`prediction_by_filename`, `prediction_by_sha256_prefix`, and the hour lists once per hour), with
realistic values -- phone-camera, screenshot and descriptive filenames, a skewed label mix,
confidences mostly high with ~12% below 0.6, three model versions over the month, random SHA-256s --
spread over 30 days with a daily rhythm (busy afternoons, quiet nights). No image blobs: the list
page never reads them (thumbnails are separate requests). Rows are generated deterministically per
chunk, so an interrupted load resumes where it stopped and a finished one is not repeated.

Never touches the development node (9042) or keyspace (`fashionsite`).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import statistics
import sys
import time
import uuid
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ["DJANGO_SETTINGS_MODULE"] = "fashionsite.test_settings"
os.environ["SQLITE_PATH"] = ":memory:"  # nothing here needs the SQLite database; never touch var/db.sqlite3

import django  # noqa: E402
from django.conf import settings  # noqa: E402

django.setup()

from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile  # noqa: E402
from cassandra.concurrent import execute_concurrent  # noqa: E402
from cassandra.cqlengine import management  # noqa: E402
from cassandra.cqlengine.models import Model as CqlModel  # noqa: E402
from cassandra.policies import WhiteListRoundRobinPolicy  # noqa: E402
from cassandra.query import BatchStatement, BatchType  # noqa: E402
from django.contrib import admin  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from django_cassandra_engine.models import DjangoCassandraModel  # noqa: E402

from cassandra_node import LocalNode  # noqa: E402
from cassandra_node.configured import configured_node  # noqa: E402
from classifier import reads, schema, store  # noqa: E402
from classifier.listing import ListingQuery  # noqa: E402
from classifier.models import Prediction  # noqa: E402
from mlmodel.classes import CLASS_NAMES  # noqa: E402

KEYSPACE = "bench_admin_scale"
CHUNK = 10_000  # rows generated and written (and checkpointed) together
GOAL_MS = 300
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


def cql_models():
    from django.db import connections

    return [
        model for models in connections["cassandra"].introspection.cql_models.values() for model in models
    ]


def use_bench_keyspace() -> None:
    """Point every model at the bench keyspace (as the test runner does with the test keyspace)."""
    assert settings.CASSANDRA_PORT == 9142 and settings.DATABASES["cassandra"]["NAME"] != "fashionsite"
    for model in cql_models():
        model.__keyspace__ = KEYSPACE
    assert Prediction._get_keyspace() == KEYSPACE


def node_heap(node: LocalNode) -> str:
    pid = int(node.pid_file.read_text())
    arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    return next((a[4:].decode() for a in arguments if a.startswith(b"-Xmx")), "?")


# --- Loading ------------------------------------------------------------------------------------------


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


def statements_of_chunk(rows: list[dict], prepare, hours_written: set) -> tuple[list, int]:
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


def load(session, rows_wanted: int, days: int, concurrency: int) -> bool:
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


def settle(session, timeout: float) -> None:
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


# --- Timing -------------------------------------------------------------------------------------------


def render(query: str) -> tuple[float, str]:
    """Milliseconds to answer and render the admin changelist for this query string, and the HTML."""
    request = RequestFactory().get("/admin/classifier/prediction/" + query)
    request.user = User(username="bench", is_staff=True, is_superuser=True, is_active=True)
    model_admin = admin.site._registry[Prediction]
    started = time.perf_counter()
    response = model_admin.changelist_view(request)
    response.render()
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, response.status_code
    return elapsed, response.content.decode()


def shown(html: str) -> int:
    return len(re.findall(r'<th scope="row">', html))


def older_link(html: str) -> str:
    return re.search(r'<a href="([^"]+)" class="older">', html)[1].replace("&amp;", "&")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rows", type=int, default=1_000_000, help="predictions to load (default: %(default)s)"
    )
    parser.add_argument("--days", type=int, default=30, help="spread over this many days (first load only)")
    parser.add_argument("--repeat", type=int, default=9, help="timed runs per query (default: %(default)s)")
    parser.add_argument("--concurrency", type=int, default=64, help="writes in flight while loading")
    parser.add_argument(
        "--heap", default="4g", help="heap of the test node if started here (default: %(default)s)"
    )
    parser.add_argument(
        "--settle", action="store_true", help="flush and wait for compactions even without loading"
    )
    parser.add_argument("--keep-node", action="store_true", help="leave the node running if started here")
    args = parser.parse_args()

    node = configured_node(heap=args.heap)
    started_here = node.start()
    print(
        f"Test node: {'started' if started_here else 'already running'}, "
        f"heap {node_heap(node)}, port {node.native_port}"
    )
    try:
        use_bench_keyspace()
        management.create_keyspace_simple(KEYSPACE, 1, connections=["cassandra"])
        management.Model = (CqlModel, DjangoCassandraModel)  # as sync_cassandra does, for Django models
        for model in cql_models():
            management.sync_table(model, keyspaces=[KEYSPACE], connections=["cassandra"])
        schema.ensure_indexes()

        # A session of its own for the bulk load: the libev reactor is faster than asyncio (the default
        # outside gunicorn).
        profile = ExecutionProfile(
            load_balancing_policy=WhiteListRoundRobinPolicy(["127.0.0.1"]), request_timeout=60
        )
        cluster = Cluster(
            ["127.0.0.1"], port=settings.CASSANDRA_PORT, execution_profiles={EXEC_PROFILE_DEFAULT: profile}
        )
        loader = cluster.connect()
        if load(loader, args.rows, args.days, args.concurrency) or args.settle:
            settle(loader, timeout=900)
        state = loader.execute(
            f"SELECT first_day, days, chunks FROM {KEYSPACE}.bench_load_state WHERE name = 'load'"
        ).one()
        total_rows = len(state.chunks or ()) * CHUNK
        cluster.shutdown()

        newest = state.first_day.date() + datetime.timedelta(days=state.days - 1)
        oldest = state.first_day.date()
        month = f"from={newest - datetime.timedelta(days=29)}&to={newest}"
        busiest_prefix = "img_"  # phone-camera names: the biggest (day, initial) partition of every day
        sample = reads.page(ListingQuery.of_day(newest), limit=1).predictions[0]
        print(f"{total_rows:,} predictions in {KEYSPACE}, {oldest} to {newest}; timing the admin changelist "
              f"(view + template), {args.repeat} runs each after one cold run\n")  # fmt: skip

        # The 50th page of the newest day: follow 49 "Older predictions" links first.
        query = f"?day={newest}"
        for _ in range(49):
            query = older_link(render(query)[1])
        page_50 = query

        queries = [
            ("first list page of a day", f"?day={newest}", True),
            ("50th older page of that day", page_50, True),
            ("label filter (Sandal), one day", f"?day={newest}&label=Sandal", True),
            (f'filename search "{busiest_prefix}", one day', f"?day={newest}&q={busiest_prefix}", True),
            ("first page of 30 days", f"?{month}", False),
            ('filename search "blue dress", 30 days', f"?{month}&q=blue+dress", False),
            ("label + uncertain, 30 days", f"?{month}&label=Shirt&uncertain=1", False),
            ("model version filter, 30 days", f"?{month}&model_version={MODEL_VERSIONS[0]}", False),
            ("SHA-256 prefix search (6 digits)", f"?q={sample.sha256[:6]}&search_by=sha256", False),
        ]
        print(f"{'query':<42} {'rows shown':>10} {'cold ms':>8} {'p50 ms':>8} {'max ms':>8}")
        failures = []
        for name, query, goal in queries:
            cold, html = render(query)
            times = [render(query)[0] for _ in range(args.repeat)]
            p50 = statistics.median(times)
            mark = "" if p50 <= GOAL_MS else "  OVER 300 ms"
            print(f"{name:<42} {shown(html):>10} {cold:>8.1f} {p50:>8.1f} {max(times):>8.1f}{mark}")
            if goal and p50 > GOAL_MS:
                failures.append(name)
        print(f"\n{total_rows:,} rows. Goal: each of the first four at most {GOAL_MS} ms (p50): "
              f"{'met' if not failures else 'NOT met for ' + ', '.join(failures)}.")  # fmt: skip
        return 1 if failures else 0
    finally:
        if started_here and not args.keep_node:
            from cassandra.cqlengine.connection import unregister_connection

            unregister_connection("cassandra")
            node.stop()


if __name__ == "__main__":
    sys.exit(main())
