"""The app's models: the prediction log in Cassandra, modelled query-first (predictions.py, with its
lookup tables in lookups.py), and the site's own rows in the relational database (relational.py)."""

from .lookups import (
    SHA256_BUCKET_DIGITS,
    PredictionByFilename,
    PredictionBySha256,
    PredictionBySha256Prefix,
    PredictionHour,
    PredictionHourByModelVersion,
    name_key,
)
from .predictions import (
    COLUMNS,
    CORRECTION_COLUMNS,
    SUGGESTION_COLUMNS,
    UPLOAD_COLUMNS,
    Prediction,
    PredictionExplanation,
    PredictionImages,
    SuggestionByVisitor,
    is_prediction_id,
    new_prediction_id,
    partition_of,
)
from .relational import ApiToken, ModelVersion

__all__ = [
    "COLUMNS",
    "SHA256_BUCKET_DIGITS",
    "new_prediction_id",
    "is_prediction_id",
    "partition_of",
    "name_key",
    "Prediction",
    "CORRECTION_COLUMNS",
    "SUGGESTION_COLUMNS",
    "UPLOAD_COLUMNS",
    "PredictionImages",
    "PredictionBySha256",
    "PredictionHour",
    "PredictionHourByModelVersion",
    "PredictionByFilename",
    "PredictionBySha256Prefix",
    "PredictionExplanation",
    "SuggestionByVisitor",
    "ApiToken",
    "ModelVersion",
]
