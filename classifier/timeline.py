"""Reading predictions the way the table is modelled: one (day, hour) partition at a time.

No query here scans the table: each one names its whole partition key and slices the clustering
column, so ALLOW FILTERING (which django-cassandra-engine adds to everything) never has anything
to filter.
"""

import datetime
import uuid
from dataclasses import dataclass

from .models import Prediction, PredictionBySha256, PredictionImages, partition_of


@dataclass(frozen=True)
class Page:
    day: datetime.date
    predictions: list[Prediction]
    next_cursor: uuid.UUID | None  # pass as `before` for the next (older) page of the same day


def day_page(
    day: datetime.date, *, before: uuid.UUID | None = None, limit: int = 50, label: str | None = None
) -> Page:
    """Up to `limit` predictions of `day` (UTC), newest first, older than `before`, of `label` if given."""
    rows: list[Prediction] = []
    first_hour = 23
    if before is not None and partition_of(before)[0] == day:
        first_hour = partition_of(before)[1]
    for hour in range(first_hour, -1, -1):
        query = Prediction.objects.filter(day=day, hour=hour)
        if before is not None:
            query = query.filter(id__lt=before)
        if label is not None:
            query = query.filter(label=label)
        rows.extend(query.limit(limit + 1 - len(rows)))
        if len(rows) > limit:
            break
    has_more = len(rows) > limit
    rows = rows[:limit]
    return Page(day=day, predictions=rows, next_cursor=rows[-1].id if has_more else None)


def today() -> datetime.date:
    return datetime.datetime.now(datetime.timezone.utc).date()


def latest(limit: int = 20) -> list[Prediction]:
    """Today's newest predictions."""
    return day_page(today(), limit=limit).predictions


def find(prediction_id: uuid.UUID) -> Prediction | None:
    if prediction_id.version != 1:  # not one of ours: no time in it to find a partition by
        return None
    day, hour = partition_of(prediction_id)
    return Prediction.objects.filter(day=day, hour=hour, id=prediction_id).first()


def images_of(prediction_id: uuid.UUID) -> PredictionImages | None:
    return PredictionImages.objects.filter(id=prediction_id).first()


def earlier_prediction(sha256: str, model_version: str) -> Prediction | None:
    """The newest prediction that `model_version` made for a file with this SHA-256, if any."""
    earlier = PredictionBySha256.objects.filter(sha256=sha256, model_version=model_version).first()
    return find(earlier.id) if earlier is not None else None
