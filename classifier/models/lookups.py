"""The lookup tables of the prediction log: one per query that `prediction` and its indexes cannot
answer by themselves (predictions.py lists every query and the table that answers it). Each row is
written with its prediction's (store.py) and leads to an id that is then read from `prediction`.

All but `prediction_by_sha256` are plain cqlengine models: sync_cassandra creates them and the test
runner empties them like the others, but they are no Django models (no admin permissions of their own).
"""

from cassandra.cqlengine import columns
from cassandra.cqlengine.models import Model
from django_cassandra_engine.models import DjangoCassandraModel

SHA256_BUCKET_DIGITS = 4


def name_key(filename: str) -> str:
    """What filename search compares: the name casefolded (so "Boot.PNG" is found by "boot")."""
    return filename.casefold()


class PredictionBySha256(DjangoCassandraModel):
    """Earlier predictions of the same file: an upload seen before by the active model is not recomputed."""

    __table_name__ = "prediction_by_sha256"

    sha256 = columns.Text(partition_key=True)
    model_version = columns.Text(primary_key=True)
    id = columns.TimeUUID(primary_key=True, clustering_order="DESC")

    class Meta:
        get_pk_field = "id"


class PredictionHour(Model):
    """The (day, hour) partitions of `prediction` that hold predictions, newest first, per year."""

    __table_name__ = "prediction_hours"

    year = columns.SmallInt(partition_key=True)
    day = columns.Date(primary_key=True, clustering_order="DESC")
    hour = columns.TinyInt(primary_key=True, clustering_order="DESC")


class PredictionHourByModelVersion(Model):
    """The (day, hour) partitions of `prediction` that hold predictions of one model version."""

    __table_name__ = "prediction_hours_by_model_version"

    model_version = columns.Text(partition_key=True)
    year = columns.SmallInt(partition_key=True)
    day = columns.Date(primary_key=True, clustering_order="DESC")
    hour = columns.TinyInt(primary_key=True, clustering_order="DESC")


class PredictionByFilename(Model):
    """Filename prefix search: one day's names with the same first character, in name order."""

    __table_name__ = "prediction_by_filename"

    day = columns.Date(partition_key=True)
    initial = columns.Text(partition_key=True)  # name_key[:1]
    name_key = columns.Text(primary_key=True)  # the casefolded filename
    id = columns.TimeUUID(primary_key=True, clustering_order="DESC")
    label = columns.Text(required=True)
    model_version = columns.Text(required=True)
    confidence = columns.Float(required=True)


class PredictionBySha256Prefix(Model):
    """SHA-256 prefix search across all days: buckets of the first four hex digits, in digest order."""

    __table_name__ = "prediction_by_sha256_prefix"

    bucket = columns.Text(partition_key=True)  # sha256[:SHA256_BUCKET_DIGITS]
    sha256 = columns.Text(primary_key=True)
    id = columns.TimeUUID(primary_key=True, clustering_order="DESC")
    label = columns.Text(required=True)
    model_version = columns.Text(required=True)
    confidence = columns.Float(required=True)
