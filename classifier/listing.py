"""What a listing of predictions asks for and what it gets, apart from how it is read (reads.py).

A `ListingQuery` is a query spec: a range of days (one day or several), optional filters (predicted
label, model version, "uncertain", "with a visitor's suggestion") and an optional search (filename
prefix, or SHA-256 prefix across all days). The site's front page, the API's day listing and the
admin's changelist all ask with one; `reads.page()` answers it one `ListingPage` at a time, each with
the `Cursor` of the next.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field

from django.conf import settings

from .models import SHA256_BUCKET_DIGITS, Prediction, is_prediction_id

FILENAME = "filename"
SHA256 = "sha256"
SEARCH_FIELDS = (FILENAME, SHA256)
MAX_RANGE_DAYS = 3660  # ten years: one small query per year of the range lists its partitions
# The first day a time-UUID id can name (its timestamp counts from the Gregorian reform): no
# prediction is older, and the calendar before it is where date arithmetic overflows.
FIRST_DAY = datetime.date(1582, 10, 15)
HEX_DIGITS = frozenset("0123456789abcdef")
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def today() -> datetime.date:
    """Today in UTC, the days partitions are named by."""
    return datetime.datetime.now(datetime.UTC).date()


@dataclass(frozen=True)
class Filters:
    label: str | None = None
    model_version: str | None = None
    uncertain: bool = False  # confidence below settings.UNCERTAIN_BELOW
    suggested: bool = False  # a visitor suggested the true class

    def __bool__(self) -> bool:
        return bool(self.label or self.model_version or self.uncertain or self.suggested)

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
        if self.suggested:  # any time at all: SAI skips the rows without one
            conditions.append("suggested_at >= ?")
            values.append(EPOCH)
        return conditions, values

    def accepts(self, row: dict) -> bool:
        """Whether a lookup-table row (with label, model_version, confidence) passes the filters; not
        `suggested`, which lookup rows do not carry (reads.py checks it on the predictions)."""
        return (
            (not self.label or row["label"] == self.label)
            and (not self.model_version or row["model_version"] == self.model_version)
            and (not self.uncertain or row["confidence"] < settings.UNCERTAIN_BELOW)
        )


@dataclass(frozen=True)
class ListingQuery:
    newest: datetime.date
    oldest: datetime.date
    filters: Filters = field(default_factory=Filters)
    search_by: str = FILENAME
    search: str = ""  # empty: browse

    def __post_init__(self) -> None:
        if self.oldest < FIRST_DAY:
            raise ValueError(
                f"There are no predictions before {FIRST_DAY:%-d %B %Y}, the first day a prediction id "
                "(a time UUID) can name: choose a later day."
            )
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
    def of_day(cls, day: datetime.date, **kwargs) -> ListingQuery:
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
        if not is_prediction_id(cursor.id):
            raise ValueError("not a prediction id")
        return cursor


@dataclass(frozen=True)
class ListingPage:
    """One page of a listing, and where the next one starts (None: this is the last)."""

    predictions: list[Prediction]
    next_cursor: Cursor | None
