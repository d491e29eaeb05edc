"""The prediction log, modelled query-first for Cassandra.

`Prediction` answers "a day's predictions, newest first, page by page": one partition per hour of a
day keeps partitions bounded however busy the site gets, and the time-based id clusters rows newest
first, so a page is a single-partition slice `id < cursor LIMIT n`. The upload's images live in
`PredictionImages`, keyed by the same id, so listing pages never read the blobs.

The prediction id is a version-1 (time) UUID: its timestamp gives the day and hour partition,
so a prediction is found from its id alone.

Every query the site and the admin make, and the table or index that answers it (none needs
ALLOW FILTERING and none scans the table; reads.py and store.py run them as prepared statements, cql.py):

- A day or a range of days, newest first, cursor paging: `prediction_hours` lists the (day, hour)
  partitions of `prediction` that hold predictions (partitioned by year: at most 8,784 rows), and a
  page reads those partitions newest first, `WHERE day = ? AND hour = ? AND id < cursor LIMIT n`,
  issuing the next few concurrently when one partition does not fill the page.
- The same, filtered by predicted label, model version and/or "uncertain" (confidence below
  UNCERTAIN_BELOW): storage-attached indexes (SAI) on `prediction(label)`, `(model_version)` and
  `(confidence)` (SAI answers numeric ranges and intersects indexes). With the partition key given,
  a filtered page is still one single-partition read per hour. cqlengine's sync_table cannot create
  SAI indexes: `classifier/schema.py` does (`manage.py sync_schema`). A model version is used for a
  while and then retired, so `prediction_hours_by_model_version` ((model_version, year), day, hour)
  lists only the hours that hold its predictions: filtering a month by a version retired three weeks
  ago reads its hours only, not the 500 hours since.
- Filename starts with ... (case-insensitive), in a day or a range of days: `prediction_by_filename`,
  partition (day, first character of the casefolded name), clustered by (casefolded name, id DESC):
  a prefix is one clustering slice `name_key >= q AND name_key < successor(q)` per day (a partition
  holds one day's names with one initial). Results come in name order, day by day, newest first.
- SHA-256 starts with ... (at least four hex digits), across all days: `prediction_by_sha256_prefix`,
  partition: the first four hex digits (65,536 buckets, ~15 rows each per million predictions),
  clustered by (sha256, id DESC).
- The same file seen before by the active model (repeat uploads, each stored as a prediction of its
  own that takes the earlier classification): `prediction_by_sha256`, partition: the full SHA-256.
- One prediction by id: `prediction` (the id names its partition); its images: `prediction_images`;
  the heat map of why the model answered so, once computed: `prediction_explanation`.
- The same, only predictions with a visitor's suggestion: an SAI index on `suggested_at`, any time
  (SAI skips nulls); a search, whose lookup rows lack the suggestion, checks its matches' rows.
- A visitor's suggestions in the past hour (their rate limit): `suggestion_by_visitor`.
- Every prediction staff corrected, across all days (`train_model --include-corrections`, see
  `classifier/corrections.py`): an SAI index on `prediction(corrected_label)`, one query per class,
  `WHERE corrected_label = ?`. The one query here without a partition key: each node answers it from
  its index, which holds only the corrected rows (SAI skips null values, so uploads cost it nothing).
  The index rather than a lookup table of corrections: clearing a correction and deleting a
  prediction keep it right by themselves. `store.correct` is a lightweight transaction (`IF EXISTS`:
  a correction must not bring back a deleted prediction), and a conditional update cannot share a
  batch with another table's row, so a lookup row would be written apart and could outlive its
  prediction.

The lookup tables (lookups.py) carry the label, model version and confidence (which never change), so filters
combined with a search are applied while their slice streams by, and only the page's rows are then
read from `prediction`. The mutable parts of a prediction, a staff correction (`corrected_label`,
`corrected_by`, `corrected_at`) and a visitor's suggestion (`suggested_label`, `suggested_at`), live
only in `prediction` and are written with an UPDATE of their own columns (never by rewriting the row,
which would write tombstones for its empty columns).

An upload writes its images and lookup rows first and its `prediction` row last; a deletion removes
the `prediction` row first (`store.record` / `store.delete`). Every reader starts from that row or
checks it, so a prediction is seen whole or not at all, and a write cut short leaves only rows that
no reader reaches.
The hour lists keep an hour once listed (an emptied hour costs one empty read).
"""

import datetime
import json
import secrets
import uuid

from cassandra.cqlengine import columns
from cassandra.cqlengine.models import Model
from cassandra.util import datetime_from_uuid1
from django.conf import settings
from django.urls import reverse
from django_cassandra_engine.models import DjangoCassandraModel

from mlmodel.classes import CLASS_NAMES


def new_prediction_id() -> uuid.UUID:
    """A new prediction id: a time UUID (its timestamp names the partition) whose node and clock
    sequence are random instead of the host's MAC address and a counter, so that the id, which is
    all a result page's link holds, cannot be guessed from another one (61 random bits)."""
    node = secrets.randbits(48) | 1 << 40  # the multicast bit: marks the node as no real MAC (RFC 9562)
    return uuid.uuid1(node=node, clock_seq=secrets.randbits(14))


def is_prediction_id(value: uuid.UUID) -> bool:
    """Whether the UUID can be a prediction's id: a time UUID (version 1), the only kind Cassandra's
    timeuuid columns accept (it answers any other with an error, not with "not found")."""
    return value.version == 1


def partition_of(prediction_id: uuid.UUID) -> tuple[datetime.date, int]:
    """The (day, hour) partition, in UTC, that holds the prediction with this id."""
    created = datetime_from_uuid1(prediction_id)
    return created.date(), created.hour


class Prediction(DjangoCassandraModel):
    __table_name__ = "prediction"

    day = columns.Date(partition_key=True)
    hour = columns.TinyInt(partition_key=True)
    # The columns in the order of the CSV export's (export.py), which derives its header from them.
    id = columns.TimeUUID(primary_key=True, clustering_order="DESC")
    filename = columns.Text(required=True)
    label = columns.Text(required=True)  # SAI-indexed (classifier/schema.py)
    label_index = columns.TinyInt(required=True)
    confidence = columns.Float(required=True)  # SAI-indexed
    model_version = columns.Text(required=True)  # SAI-indexed
    # A staff member's correction of the label; written only by store.correct / store.clear_correction.
    corrected_label = columns.Text()  # SAI-indexed
    corrected_by = columns.Text()
    corrected_at = columns.DateTime()
    # A visitor's suggestion of the true class ("Wrong answer?" on the result page), not a correction:
    # staff accept it as one in the admin. Written only by store.suggest.
    suggested_label = columns.Text()
    suggested_at = columns.DateTime()  # SAI-indexed: the admin's "with a visitor's suggestion" filter
    sha256 = columns.Text(required=True)
    image_format = columns.Text(required=True)
    image_width = columns.Integer(required=True)
    image_height = columns.Integer(required=True)
    probabilities = columns.List(columns.Float, required=True)
    preprocessing = columns.Text(required=True)  # JSON of what preprocessing decided
    # mlmodel.novelty: the model's energy score, its photo detector's familiarity, and whether they
    # say "probably none of the ten classes" (empty for predictions made before models had them).
    energy = columns.Float()
    familiarity = columns.Float()
    none_of_the_ten = columns.Boolean()
    # The same file was classified before by the same model, and this upload took that classification
    # without running the model (empty for predictions made before repeats had rows of their own).
    repeat = columns.Boolean()

    class Meta:
        get_pk_field = "id"

    def __str__(self) -> str:
        return f"{self.filename}: {self.label} ({self.confidence:.0%})"

    @property
    def created_at(self) -> datetime.datetime:
        return datetime_from_uuid1(self.id).replace(tzinfo=datetime.UTC)

    @property
    def class_probabilities(self) -> list[tuple[str, float]]:
        """(class name, probability) pairs, most likely first."""
        return sorted(zip(CLASS_NAMES, self.probabilities), key=lambda pair: -pair[1])

    @property
    def uncertain(self) -> bool:
        return self.uncertain_reason is not None

    @property
    def uncertain_reason(self) -> str | None:
        """Why the answer is not to be trusted: "none_of_the_ten" (the photo is probably none of the
        classes), "low_confidence" (below UNCERTAIN_BELOW), or None."""
        if self.none_of_the_ten:
            return "none_of_the_ten"
        if self.confidence < settings.UNCERTAIN_BELOW:
            return "low_confidence"
        return None

    @property
    def preprocessing_decisions(self) -> dict[str, object]:
        return json.loads(self.preprocessing)

    @property
    def garment_outline_points(self) -> str:
        """The garment's outline found in a phone photo, as SVG points in shares of the photo ("" if none)."""
        outline = self.preprocessing_decisions.get("segmentation", {}).get("outline", [])
        return " ".join(f"{x},{y}" for x, y in outline)

    @property
    def took_second_look(self) -> bool:
        """Whether the model also saw the garment squeezed to a square (mlmodel/cut_out.py)."""
        return bool(self.preprocessing_decisions.get("segmentation", {}).get("second_look"))

    @property
    def corrected_at_utc(self) -> datetime.datetime | None:
        if self.corrected_at is None:
            return None
        return self.corrected_at.replace(tzinfo=datetime.UTC)

    @property
    def suggested_at_utc(self) -> datetime.datetime | None:
        if self.suggested_at is None:
            return None
        return self.suggested_at.replace(tzinfo=datetime.UTC)

    def get_absolute_url(self) -> str:
        return reverse("classifier:result", args=[self.id])


# The one list of `prediction`'s columns, taken from the model: what an upload writes (store.py) and
# backfill reads (schema.py) is every column but the partition key, which the id gives
# (partition_of), the staff correction, which only store.correct writes, and a visitor's suggestion,
# which only store.suggest writes.
CORRECTION_COLUMNS = ("corrected_label", "corrected_by", "corrected_at")
SUGGESTION_COLUMNS = ("suggested_label", "suggested_at")
COLUMNS: tuple[str, ...] = tuple(Prediction._columns)  # cqlengine's columns, in definition order
UPLOAD_COLUMNS = tuple(
    name
    for name in COLUMNS
    if not Prediction._columns[name].partition_key and name not in CORRECTION_COLUMNS + SUGGESTION_COLUMNS
)


class PredictionImages(DjangoCassandraModel):
    """What the site shows of an upload: the exact model input and a small thumbnail; for a garment
    wider than tall, also the second look the model took (mlmodel/cut_out.py), which the heat map holds
    beside the first and `train_model --include-corrections` learns from."""

    __table_name__ = "prediction_images"

    id = columns.TimeUUID(primary_key=True)
    model_input_png = columns.Blob(required=True)
    thumbnail_jpeg = columns.Blob(required=True)
    second_look_png = columns.Blob()


class PredictionExplanation(Model):
    """Why the model answered what it did (mlmodel.explanation), computed when first asked for and
    kept: a prediction and the model version that made it never change, so neither does its map.
    Deleted with its prediction (store.delete)."""

    __table_name__ = "prediction_explanation"

    id = columns.TimeUUID(primary_key=True)
    method = columns.Text(required=True)  # mlmodel.explanation.METHOD: a map made otherwise is remade
    sensitivity = columns.Blob(required=True)  # 28x28 float16
    probability = columns.Float(required=True)
    lowest = columns.Float(required=True)
    computed_at = columns.DateTime(required=True)


class SuggestionByVisitor(Model):
    """The suggestions one visitor sent in the past hour, their rate limit (suggestions.py): rows
    expire after an hour, and a read of `LIMIT` the allowance counts them."""

    __table_name__ = "suggestion_by_visitor"
    __options__ = {"default_time_to_live": 3600}

    visitor = columns.Text(partition_key=True)  # suggestions.visitor_key: no address is stored
    id = columns.TimeUUID(primary_key=True, clustering_order="DESC")
