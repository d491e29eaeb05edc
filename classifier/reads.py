"""Reading predictions the way the tables are modelled (see models/predictions.py): no query scans a table.

`page()` answers a `ListingQuery` (listing.py) one page at a time with a cursor to the next;
`rows()` streams every row of one (the CSV export). Browsing reads `prediction` partition by
partition, newest first, with the filters answered by its SAI indexes; searching reads a slice of a
lookup table, applies the filters to the slice's own copies of label, model version and confidence,
and reads only the page's predictions from `prediction`. One prediction is read by its id (which
names its partition), its images from `prediction_images`, an earlier upload of the same file from
`prediction_by_sha256`.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable, Iterator
from itertools import islice

from django.http import Http404

from . import cql
from .cql import Query
from .listing import FILENAME, Cursor, ListingPage, ListingQuery, today
from .models import (
    SHA256_BUCKET_DIGITS,
    Prediction,
    PredictionByFilename,
    PredictionBySha256,
    PredictionBySha256Prefix,
    PredictionExplanation,
    PredictionHour,
    PredictionHourByModelVersion,
    PredictionImages,
    SuggestionByVisitor,
    is_prediction_id,
    name_key,
    partition_of,
)


def page(view: ListingQuery, cursor: Cursor | None = None, limit: int = 50) -> ListingPage:
    """Up to `limit` predictions of the view after `cursor`, and the cursor of the next page if any."""
    if not view.searching:
        rows = list(islice(_browse_rows(view, cursor.id if cursor else None, limit=limit + 1), limit + 1))
        predictions = [_prediction(row) for row in rows[:limit]]
        more = len(rows) > limit
        return ListingPage(predictions, Cursor(predictions[-1].id) if more else None)
    found = list(islice(_search_rows(view, cursor), limit + 1))
    predictions = find_many([row["id"] for row in found[:limit]])
    if len(found) <= limit:
        return ListingPage(predictions, None)
    last = found[limit - 1]
    return ListingPage(
        predictions, Cursor(last["id"], last["name_key" if view.search_by == FILENAME else "sha256"])
    )


def rows(view: ListingQuery, fetch_size: int = 1000) -> Iterator[dict]:
    """Every prediction of the view as a row (a dict of its columns), in listing order, streamed."""
    if not view.searching:
        yield from _browse_rows(view, None, limit=None, fetch_size=fetch_size)
        return
    found = _search_rows(view, None, fetch_size=fetch_size)
    while chunk := [row["id"] for row in islice(found, 100)]:
        yield from _rows_by_id(chunk)


def latest(limit: int = 20) -> list[Prediction]:
    """Today's newest predictions."""
    return page(ListingQuery.of_day(today()), limit=limit).predictions


def hours(
    newest: datetime.date,
    oldest: datetime.date,
    at_or_before: tuple[datetime.date, int] | None = None,
    model_version: str | None = None,
) -> Iterator[tuple[datetime.date, int]]:
    """The (day, hour) partitions holding predictions (of `model_version` if given) from `newest` back
    to `oldest`, newest first."""
    if at_or_before is not None:
        newest = min(newest, at_or_before[0])
    if model_version is None:
        statement = (
            f"SELECT day, hour FROM {cql.table(PredictionHour)} WHERE year = ? AND day >= ? AND day <= ?"
        )
        key: tuple = ()
    else:
        statement = (
            f"SELECT day, hour FROM {cql.table(PredictionHourByModelVersion)} "
            "WHERE model_version = ? AND year = ? AND day >= ? AND day <= ?"
        )
        key = (model_version,)
    for year in range(newest.year, oldest.year - 1, -1):
        first, last = max(oldest, datetime.date(year, 1, 1)), min(newest, datetime.date(year, 12, 31))
        for row in cql.execute(statement, (*key, year, first, last), fetch_size=1000):
            partition = (row["day"].date(), row["hour"])
            if at_or_before is None or partition <= at_or_before:
                yield partition


def days(
    newest: datetime.date,
    oldest: datetime.date,
    at_or_before: datetime.date | None = None,
    model_version: str | None = None,
) -> Iterator[datetime.date]:
    """The days holding predictions (of `model_version` if given), `newest` back to `oldest`, newest first."""
    previous = None
    for day, _ in hours(newest, oldest, (at_or_before, 23) if at_or_before else None, model_version):
        if day != previous:
            previous = day
            yield day


def find(prediction_id: uuid.UUID) -> Prediction | None:
    found = find_many([prediction_id])
    return found[0] if found else None


def prediction_or_404(prediction_id: uuid.UUID | str) -> Prediction:
    """The prediction with this id (a UUID, or its text from a URL), or the 404 every page answers."""
    try:
        found = find(prediction_id if isinstance(prediction_id, uuid.UUID) else uuid.UUID(prediction_id))
    except ValueError:  # not a UUID
        found = None
    if found is None:
        raise Http404("No prediction with this id.")
    return found


def find_many(prediction_ids: list[uuid.UUID]) -> list[Prediction]:
    """The predictions with these ids that exist, in the same order (read concurrently)."""
    return [_prediction(row) for row in _rows_by_id(prediction_ids)]


def images_of(prediction_id: uuid.UUID) -> PredictionImages | None:
    if not is_prediction_id(prediction_id):
        return None
    statement = f"SELECT * FROM {cql.table(PredictionImages)} WHERE id = ?"
    row = cql.execute(statement, (prediction_id,)).one()
    return PredictionImages(**row) if row else None


def images_or_404(prediction_id: uuid.UUID) -> PredictionImages:
    images = images_of(prediction_id)
    if images is None:
        raise Http404("No prediction with this id.")
    return images


def explanation_of(prediction_id: uuid.UUID) -> dict | None:
    """The stored heat map of a prediction (explanations.py), if it was computed."""
    table = cql.table(PredictionExplanation)
    statement = f"SELECT method, sensitivity, probability, lowest FROM {table} WHERE id = ?"
    return cql.execute(statement, (prediction_id,)).one()


def suggestions_sent(visitor: str, up_to: int) -> int:
    """How many suggestions the visitor sent in the past hour, counting no further than `up_to`."""
    statement = f"SELECT id FROM {cql.table(SuggestionByVisitor)} WHERE visitor = ? LIMIT ?"
    return len(list(cql.execute(statement, (visitor, up_to))))


def earlier_prediction(sha256: str, model_version: str) -> Prediction | None:
    """The newest prediction that `model_version` made for a file with this SHA-256, if any."""
    return EarlierLookup(sha256, model_version).result()


class EarlierLookup:
    """`earlier_prediction`, sent at once and answered by `result()`: the caller works meanwhile."""

    def __init__(self, sha256: str, model_version: str) -> None:
        statement = (
            f"SELECT id FROM {cql.table(PredictionBySha256)} WHERE sha256 = ? AND model_version = ? LIMIT 1"
        )
        self._future = cql.execute_async(statement, (sha256, model_version))

    def result(self) -> Prediction | None:
        earlier = self._future.result().one()
        return find(earlier["id"]) if earlier is not None else None


# --- Internals -----------------------------------------------------------------------------------


def _prediction(row: dict) -> Prediction:
    return Prediction(**row)  # the model's own constructor: the row has every column


def _rows_by_id(prediction_ids: list[uuid.UUID]) -> Iterator[dict]:
    statement = f"SELECT * FROM {cql.table(Prediction)} WHERE day = ? AND hour = ? AND id = ?"
    ours = [prediction_id for prediction_id in prediction_ids if is_prediction_id(prediction_id)]
    futures = [
        cql.execute_async(statement, (*partition_of(prediction_id), prediction_id)) for prediction_id in ours
    ]
    for future in futures:
        row = future.result().one()
        if row is not None:
            yield row


def _browse_rows(
    view: ListingQuery, before: uuid.UUID | None, limit: int | None, fetch_size: int | None = None
) -> Iterator[dict]:
    """Rows of `prediction` in the view, newest first, older than `before`; each partition read
    with at most `limit` rows (None: all of them, paged by `fetch_size`)."""
    conditions, values = view.filters.cql()
    start = partition_of(before) if before is not None else None
    table = cql.table(Prediction)
    limit_clause, limit_values = (" LIMIT ?", [limit]) if limit is not None else ("", [])

    def queries() -> Iterator[Query]:
        for day, hour in hours(view.newest, view.oldest, start, view.filters.model_version):
            where = ["day = ?", "hour = ?"]
            params: list[object] = [day, hour]
            if (day, hour) == start:
                where.append("id < ?")
                params.append(before)
            statement = f"SELECT * FROM {table} WHERE {' AND '.join(where + conditions)}{limit_clause}"
            yield statement, [*params, *values, *limit_values]

    if limit is None:  # streaming everything: one query ahead is enough
        return cql.chain(queries(), window=1, max_window=2, fetch_size=fetch_size)
    return cql.chain(queries(), window=1, max_window=8)


def _search_rows(view: ListingQuery, after: Cursor | None, fetch_size: int = 200) -> Iterator[dict]:
    """Lookup-table rows matching the search and the filters, in search order, after `after`."""
    if view.search_by == FILENAME:
        found = _filename_rows(view, after, fetch_size)
    else:
        found = _sha256_rows(view, after, fetch_size)
    found = (row for row in found if view.filters.accepts(row))
    return _with_suggestion(found) if view.filters.suggested else found


def _with_suggestion(found: Iterator[dict], chunk_size: int = 50) -> Iterator[dict]:
    """The lookup rows whose prediction has a visitor's suggestion. The lookup tables do not carry it
    (it changes), so the predictions are read, `chunk_size` at a time, concurrently."""
    while chunk := list(islice(found, chunk_size)):
        suggested = {row["id"] for row in _rows_by_id([row["id"] for row in chunk]) if row["suggested_at"]}
        yield from (row for row in chunk if row["id"] in suggested)


def _filename_rows(view: ListingQuery, after: Cursor | None, fetch_size: int) -> Iterator[dict]:
    prefix = name_key(view.search)
    upper = _successor(prefix)
    table = cql.table(PredictionByFilename)
    select = (
        f"SELECT name_key, id, label, model_version, confidence FROM {table} WHERE day = ? AND initial = ?"
    )
    after_day = partition_of(after.id)[0] if after is not None and after.key is not None else None

    def queries() -> Iterator[Query]:
        for day in days(view.newest, view.oldest, after_day, view.filters.model_version):
            if day == after_day:  # the rest of the cursor's name, then the names after it
                yield f"{select} AND name_key = ? AND id < ?", (day, prefix[:1], after.key, after.id)
                yield from _slice(select, (day, prefix[:1]), "name_key", after.key, upper, inclusive=False)
            else:
                yield from _slice(select, (day, prefix[:1]), "name_key", prefix, upper, inclusive=True)

    return cql.chain(queries(), window=1, max_window=4, fetch_size=fetch_size)


def _sha256_rows(view: ListingQuery, after: Cursor | None, fetch_size: int) -> Iterator[dict]:
    prefix = view.search
    upper = _successor(prefix)
    table = cql.table(PredictionBySha256Prefix)
    select = f"SELECT sha256, id, label, model_version, confidence FROM {table} WHERE bucket = ?"
    bucket = (prefix[:SHA256_BUCKET_DIGITS],)

    def queries() -> Iterator[Query]:
        if after is not None and after.key is not None:
            yield f"{select} AND sha256 = ? AND id < ?", (*bucket, after.key, after.id)
            yield from _slice(select, bucket, "sha256", after.key, upper, inclusive=False)
        else:
            yield from _slice(select, bucket, "sha256", prefix, upper, inclusive=True)

    return cql.chain(queries(), fetch_size=fetch_size)


def _slice(
    select: str, values: tuple, column: str, lower: str, upper: str | None, *, inclusive: bool
) -> Iterable[Query]:
    statement = f"{select} AND {column} {'>=' if inclusive else '>'} ?"
    if upper is None:
        return [(statement, (*values, lower))]
    return [(f"{statement} AND {column} < ?", (*values, lower, upper))]


def _successor(prefix: str) -> str | None:
    """The smallest string after every string that starts with `prefix` (None: there is none)."""
    chars = list(prefix)
    while chars:
        code = ord(chars[-1]) + 1
        if 0xD800 <= code <= 0xDFFF:  # surrogates are no characters of a UTF-8 string
            code = 0xE000
        if code <= 0x10FFFF:
            chars[-1] = chr(code)
            return "".join(chars)
        chars.pop()
    return None
