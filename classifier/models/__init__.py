"""The app's models: the prediction log in Cassandra, modelled query-first (predictions.py), and
the site's own rows in the relational database (relational.py)."""

from .predictions import (
    COLUMNS,
    CORRECTION_COLUMNS,
    SHA256_BUCKET_DIGITS,
    SUGGESTION_COLUMNS,
    UPLOAD_COLUMNS,
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
