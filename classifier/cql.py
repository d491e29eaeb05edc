"""Cassandra through the driver: the session, prepared statements, and the errors that mean "down".

django-cassandra-engine's querysets add ALLOW FILTERING to every query; the statements the site runs
are written against the tables and indexes designed for them (see models/predictions.py) and never need it.
Statements are prepared once per session and CQL text; table names are read from the models on each
call, so they follow the keyspace the models use (the test runner points them at the test keyspace).
Every read and write of the site goes through here: writes in store.py, reads in reads.py.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Iterator

from cassandra import OperationTimedOut, RequestExecutionException
from cassandra.cluster import NoHostAvailable, ResponseFuture, ResultSet, Session
from cassandra.cqlengine import connection as cqlengine_connection
from cassandra.query import BatchStatement, BatchType, BoundStatement, PreparedStatement

# The driver finding no live host or timing out, and the server's unavailable/timeout/overload
# answers: the site answers 503 (middleware.py), readiness says so, train_model stops with a message.
CASSANDRA_DOWN = (NoHostAvailable, OperationTimedOut, RequestExecutionException)

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


def execute(cql: str, values: Iterable[object] = (), *, fetch_size: int | None = None) -> ResultSet:
    """Run a prepared statement; rows are dicts (cqlengine's row factory). Iterating pages on."""
    return session().execute(bind(cql, values, fetch_size=fetch_size))


def execute_async(
    cql: str, values: Iterable[object] = (), *, fetch_size: int | None = None
) -> ResponseFuture:
    return session().execute_async(bind(cql, values, fetch_size=fetch_size))


def unlogged_batch(queries: Iterable[Query]) -> BatchStatement:
    batch = BatchStatement(batch_type=BatchType.UNLOGGED)
    for cql, values in queries:
        statement = prepare(cql)
        batch.add(statement, tuple(values))
        batch.consistency_level = statement.consistency_level
    return batch


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


def unavailable() -> str | None:
    """Why Cassandra cannot answer a query right now, or None when it answers (/readyz)."""
    try:
        execute("SELECT release_version FROM system.local")
    except CASSANDRA_DOWN as error:
        return f"Cassandra is not answering: {error}"
    return None
