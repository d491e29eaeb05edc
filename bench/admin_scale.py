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
import os
import re
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ["DJANGO_SETTINGS_MODULE"] = "fashionsite.test_settings"
os.environ["SQLITE_PATH"] = ":memory:"  # nothing here needs the SQLite database; never touch var/db.sqlite3

import django  # noqa: E402
from django.conf import settings  # noqa: E402

django.setup()

from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile  # noqa: E402
from cassandra.cqlengine import management  # noqa: E402
from cassandra.cqlengine.models import Model as CqlModel  # noqa: E402
from cassandra.policies import WhiteListRoundRobinPolicy  # noqa: E402
from django.contrib import admin  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from django_cassandra_engine.models import DjangoCassandraModel  # noqa: E402

from bench.admin_rows import CHUNK, KEYSPACE, MODEL_VERSIONS, load, settle  # noqa: E402
from cassandra_node import LocalNode  # noqa: E402
from cassandra_node.configured import configured_node  # noqa: E402
from classifier import reads, schema  # noqa: E402
from classifier.listing import ListingQuery  # noqa: E402
from classifier.models import Prediction  # noqa: E402

GOAL_MS = 300


def cql_models() -> list[type[DjangoCassandraModel]]:
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
