"""The prediction log, modelled query-first for Cassandra.

`Prediction` answers "a day's predictions, newest first, page by page": one partition per hour of a
day keeps partitions bounded however busy the site gets, and the time-based id clusters rows newest
first, so a page is a single-partition slice `id < cursor LIMIT n`. The upload's images live in
`PredictionImages`, keyed by the same id, so listing pages never read the blobs. Both rows of an
upload are written in one logged batch: either both exist or neither.

The prediction id is a version-1 (time) UUID: its timestamp gives the day and hour partition,
so a prediction is found from its id alone.
"""

import datetime
import json
import uuid

from cassandra.cqlengine import columns
from cassandra.util import datetime_from_uuid1
from django.conf import settings
from django.urls import reverse
from django_cassandra_engine.models import DjangoCassandraModel

from mlmodel.classes import CLASS_NAMES


def partition_of(prediction_id: uuid.UUID) -> tuple[datetime.date, int]:
    """The (day, hour) partition, in UTC, that holds the prediction with this id."""
    created = datetime_from_uuid1(prediction_id)
    return created.date(), created.hour


class Prediction(DjangoCassandraModel):
    __table_name__ = "prediction"

    day = columns.Date(partition_key=True)
    hour = columns.TinyInt(partition_key=True)
    id = columns.TimeUUID(primary_key=True, clustering_order="DESC")
    filename = columns.Text(required=True)
    label = columns.Text(required=True)
    label_index = columns.TinyInt(required=True)
    confidence = columns.Float(required=True)
    probabilities = columns.List(columns.Float, required=True)
    model_version = columns.Text(required=True)
    sha256 = columns.Text(required=True)
    image_format = columns.Text(required=True)
    image_width = columns.Integer(required=True)
    image_height = columns.Integer(required=True)
    preprocessing = columns.Text(required=True)  # JSON of what preprocessing decided

    class Meta:
        get_pk_field = "id"

    def __str__(self) -> str:
        return f"{self.filename}: {self.label} ({self.confidence:.0%})"

    @property
    def created_at(self) -> datetime.datetime:
        return datetime_from_uuid1(self.id).replace(tzinfo=datetime.timezone.utc)

    @property
    def class_probabilities(self) -> list[tuple[str, float]]:
        """(class name, probability) pairs, most likely first."""
        return sorted(zip(CLASS_NAMES, self.probabilities), key=lambda pair: -pair[1])

    @property
    def uncertain(self) -> bool:
        return self.confidence < settings.UNCERTAIN_BELOW

    @property
    def preprocessing_decisions(self) -> dict[str, object]:
        return json.loads(self.preprocessing)

    def get_absolute_url(self) -> str:
        return reverse("classifier:result", args=[self.id])


class PredictionImages(DjangoCassandraModel):
    """What the site shows of an upload: the exact model input and a small thumbnail."""

    __table_name__ = "prediction_images"

    id = columns.TimeUUID(primary_key=True)
    model_input_png = columns.Blob(required=True)
    thumbnail_jpeg = columns.Blob(required=True)


class PredictionBySha256(DjangoCassandraModel):
    """Earlier predictions of the same file: an upload seen before by the active model is not recomputed."""

    __table_name__ = "prediction_by_sha256"

    sha256 = columns.Text(partition_key=True)
    model_version = columns.Text(primary_key=True)
    id = columns.TimeUUID(primary_key=True, clustering_order="DESC")

    class Meta:
        get_pk_field = "id"
