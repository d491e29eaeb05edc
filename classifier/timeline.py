"""Reading predictions the way the tables are modelled (see models.py): no query scans a table.

A *view* is what a listing shows: a range of days (one day or several), optional filters (predicted
label, model version, "uncertain") and an optional search (filename prefix, or SHA-256 prefix across
all days). `page()` returns one page of it with a cursor to the next; `rows()` streams every row of
it (the CSV export). Browsing reads `prediction` partition by partition, newest first, with the
filters answered by its SAI indexes; searching reads a slice of a lookup table, applies the filters
to the slice's own copies of label, model version and confidence, and reads only the page's
predictions from `prediction`.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from django.conf import settings

from . import store
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

FILENAME = "filename"
SHA256 = "sha256"
SEARCH_FIELDS = (FILENAME, SHA256)
MAX_RANGE_DAYS = 3660  # ten years: one small query per year of the range lists its partitions
HEX_DIGITS = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class Filters:
    label: str | None = None
    model_version: str | None = None
    uncertain: bool = False  # confidence below settings.UNCERTAIN_BELOW

    def __bool__(self) -> bool:
        return bool(self.label or self.model_version or self.uncertain)

    def cql(self) -> tuple[list[str], list[object]]:
        """Conditions on `prediction`'s SAI-indexed columns, and their values."""
        conditions, values = [], []
        if self.label:
            conditions.append("label = ?")
            values.append(self.label)
        if self.model_version:
            conditions.append("model_version = ?")
            values.append(self.model_version)
        if self.uncertain:
            conditions.append("confidence < ?")
            values.append(settings.UNCERTAIN_BELOW)
        return conditions, values

    def accepts(self, row: dict) -> bool:
        """Whether a lookup-table row (with label, model_version, confidence) passes the filters."""
        return (
            (not self.label or row["label"] == self.label)
            and (not self.model_version or row["model_version"] == self.model_version)
            and (not self.uncertain or row["confidence"] < settings.UNCERTAIN_BELOW)
        )


@dataclass(frozen=True)
class View:
    newest: datetime.date
    oldest: datetime.date
    filters: Filters = field(default_factory=Filters)
    search_by: str = FILENAME
    search: str = ""  # empty: browse

    def __post_init__(self) -> None:
        if self.oldest > self.newest:
            raise ValueError("The first day of the range comes after its last day.")
        if (self.newest - self.oldest).days >= MAX_RANGE_DAYS:
            raise ValueError(f"A range of days can span at most {MAX_RANGE_DAYS} days.")
        if self.search_by not in SEARCH_FIELDS:
            raise ValueError(f"Search by {' or '.join(SEARCH_FIELDS)}.")
        if self.search_by == SHA256 and self.search:
            if not set(self.search) <= HEX_DIGITS or not SHA256_BUCKET_DIGITS <= len(self.search) <= 64:
                raise ValueError(
                    f"Search a SHA-256 by its first {SHA256_BUCKET_DIGITS} to 64 hexadecimal digits."
                )

    @classmethod
    def of_day(cls, day: datetime.date, **kwargs) -> View:
        return cls(newest=day, oldest=day, **kwargs)

    @property
    def searching(self) -> bool:
        return bool(self.search)


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: after this prediction (and, in search results, after this key)."""

    id: uuid.UUID
    key: str | None = None  # the casefolded filename or the sha256 of that prediction, when searching

    def __str__(self) -> str:
        return str(self.id) if self.key is None else f"{self.id}:{self.key}"

    @classmethod
    def parse(cls, text: str) -> Cursor:
        """The inverse of str(); ValueError if it is not one."""
        prediction_id, colon, key = text.partition(":")
        cursor = cls(uuid.UUID(prediction_id), key if colon else None)
        if cursor.id.version != 1:
            raise ValueError("not a prediction id")
        return cursor


@dataclass(frozen=True)
class Listing:
    predictions: list[Prediction]
    next_cursor: Cursor | None


@dataclass(frozen=True)
class Page:
    day: datetime.date
    predictions: list[Prediction]
    next_cursor: uuid.UUID | None  # pass as `before` for the next (older) page of the same day


def today() -> datetime.date:
    return datetime.datetime.now(datetime.UTC).date()


def page(view: View, cursor: Cursor | None = None, limit: int = 50) -> Listing:
    """Up to `limit` predictions of the view after `cursor`, and the cursor of the next page if any."""
    if not view.searching:
        rows = list(islice(_browse_rows(view, cursor.id if cursor else None, limit=limit + 1), limit + 1))
        predictions = [_prediction(row) for row in rows[:limit]]
        more = len(rows) > limit
        return Listing(predictions, Cursor(predictions[-1].id) if more else None)
    found = list(islice(_search_rows(view, cursor), limit + 1))
    predictions = find_many([row["id"] for row in found[:limit]])
    if len(found) <= limit:
        return Listing(predictions, None)
    last = found[limit - 1]
    return Listing(
        predictions, Cursor(last["id"], last["name_key" if view.search_by == FILENAME else "sha256"])
    )


def rows(view: View, fetch_size: int = 1000) -> Iterator[dict]:
    """Every prediction of the view as a row (a dict of its columns), in listing order, streamed."""
    if not view.searching:
        yield from _browse_rows(view, None, limit=None, fetch_size=fetch_size)
        return
    found = _search_rows(view, None, fetch_size=fetch_size)
    while chunk := [row["id"] for row in islice(found, 100)]:
        yield from _rows_by_id(chunk)


def day_page(
    day: datetime.date, *, before: uuid.UUID | None = None, limit: int = 50, label: str | None = None
) -> Page:
    """Up to `limit` predictions of `day` (UTC), newest first, older than `before`, of `label` if given."""
    listing = page(View.of_day(day, filters=Filters(label=label)), Cursor(before) if before else None, limit)
    return Page(day, listing.predictions, listing.next_cursor.id if listing.next_cursor else None)


def latest(limit: int = 20) -> list[Prediction]:
    """Today's newest predictions."""
    return day_page(today(), limit=limit).predictions


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
        cql = f"SELECT day, hour FROM {store.table(PredictionHour)} WHERE year = ? AND day >= ? AND day <= ?"
        key: tuple = ()
    else:
        cql = (
            f"SELECT day, hour FROM {store.table(PredictionHourByModelVersion)} "
            "WHERE model_version = ? AND year = ? AND day >= ? AND day <= ?"
        )
        key = (model_version,)
    for year in range(newest.year, oldest.year - 1, -1):
        first, last = max(oldest, datetime.date(year, 1, 1)), min(newest, datetime.date(year, 12, 31))
        for row in store.execute(cql, (*key, year, first, last), fetch_size=1000):
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


def find_many(prediction_ids: list[uuid.UUID]) -> list[Prediction]:
    """The predictions with these ids that exist, in the same order (read concurrently)."""
    return [_prediction(row) for row in _rows_by_id(prediction_ids)]


def images_of(prediction_id: uuid.UUID) -> PredictionImages | None:
    cql = f"SELECT * FROM {store.table(PredictionImages)} WHERE id = ?"
    row = store.execute(cql, (prediction_id,)).one()
    return PredictionImages._construct_instance(row) if row else None


def earlier_prediction(sha256: str, model_version: str) -> Prediction | None:
    """The newest prediction that `model_version` made for a file with this SHA-256, if any."""
    cql = f"SELECT id FROM {store.table(PredictionBySha256)} WHERE sha256 = ? AND model_version = ? LIMIT 1"
    earlier = store.execute(cql, (sha256, model_version)).one()
    return find(earlier["id"]) if earlier is not None else None


# --- Internals -----------------------------------------------------------------------------------


def _prediction(row: dict) -> Prediction:
    return Prediction._construct_instance(row)


def _rows_by_id(prediction_ids: list[uuid.UUID]) -> Iterator[dict]:
    cql = f"SELECT * FROM {store.table(Prediction)} WHERE day = ? AND hour = ? AND id = ?"
    ours = [prediction_id for prediction_id in prediction_ids if prediction_id.version == 1]
    futures = [
        store.execute_async(cql, (*partition_of(prediction_id), prediction_id)) for prediction_id in ours
    ]
    for future in futures:
        row = future.result().one()
        if row is not None:
            yield row


def _browse_rows(
    view: View, before: uuid.UUID | None, limit: int | None, fetch_size: int | None = None
) -> Iterator[dict]:
    """Rows of `prediction` in the view, newest first, older than `before`; each partition read
    with at most `limit` rows (None: all of them, paged by `fetch_size`)."""
    conditions, values = view.filters.cql()
    start = partition_of(before) if before is not None else None
    table = store.table(Prediction)
    limit_clause, limit_values = (" LIMIT ?", [limit]) if limit is not None else ("", [])

    def queries() -> Iterator[store.Query]:
        for day, hour in hours(view.newest, view.oldest, start, view.filters.model_version):
            where = ["day = ?", "hour = ?"]
            params: list[object] = [day, hour]
            if (day, hour) == start:
                where.append("id < ?")
                params.append(before)
            cql = f"SELECT * FROM {table} WHERE {' AND '.join(where + conditions)}{limit_clause}"
            yield cql, [*params, *values, *limit_values]

    if limit is None:  # streaming everything: one query ahead is enough
        return store.chain(queries(), window=1, max_window=2, fetch_size=fetch_size)
    return store.chain(queries(), window=1, max_window=8)


def _search_rows(view: View, after: Cursor | None, fetch_size: int = 200) -> Iterator[dict]:
    """Lookup-table rows matching the search and the filters, in search order, after `after`."""
    if view.search_by == FILENAME:
        found = _filename_rows(view, after, fetch_size)
    else:
        found = _sha256_rows(view, after, fetch_size)
    return (row for row in found if view.filters.accepts(row))


def _filename_rows(view: View, after: Cursor | None, fetch_size: int) -> Iterator[dict]:
    prefix = name_key(view.search)
    upper = _successor(prefix)
    table = store.table(PredictionByFilename)
    select = (
        f"SELECT name_key, id, label, model_version, confidence FROM {table} WHERE day = ? AND initial = ?"
    )
    after_day = partition_of(after.id)[0] if after is not None and after.key is not None else None

    def queries() -> Iterator[store.Query]:
        for day in days(view.newest, view.oldest, after_day, view.filters.model_version):
            if day == after_day:  # the rest of the cursor's name, then the names after it
                yield f"{select} AND name_key = ? AND id < ?", (day, prefix[:1], after.key, after.id)
                yield from _slice(select, (day, prefix[:1]), "name_key", after.key, upper, inclusive=False)
            else:
                yield from _slice(select, (day, prefix[:1]), "name_key", prefix, upper, inclusive=True)

    return store.chain(queries(), window=1, max_window=4, fetch_size=fetch_size)


def _sha256_rows(view: View, after: Cursor | None, fetch_size: int) -> Iterator[dict]:
    prefix = view.search
    upper = _successor(prefix)
    table = store.table(PredictionBySha256Prefix)
    select = f"SELECT sha256, id, label, model_version, confidence FROM {table} WHERE bucket = ?"
    bucket = (prefix[:SHA256_BUCKET_DIGITS],)

    def queries() -> Iterator[store.Query]:
        if after is not None and after.key is not None:
            yield f"{select} AND sha256 = ? AND id < ?", (*bucket, after.key, after.id)
            yield from _slice(select, bucket, "sha256", after.key, upper, inclusive=False)
        else:
            yield from _slice(select, bucket, "sha256", prefix, upper, inclusive=True)

    return store.chain(queries(), fetch_size=fetch_size)


def _slice(
    select: str, values: tuple, column: str, lower: str, upper: str | None, *, inclusive: bool
) -> Iterable[store.Query]:
    cql = f"{select} AND {column} {'>=' if inclusive else '>'} ?"
    if upper is None:
        return [(cql, (*values, lower))]
    return [(f"{cql} AND {column} < ?", (*values, lower, upper))]


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
