"""Classify validated uploads (uploads.py) and record each one as a prediction in Cassandra (store.py).

Every upload is its own prediction: its own id, time and filename. A file that the active model has
classified before (the same SHA-256) keeps its first answer: its row takes the stored
classification and is marked as a repeat, and nothing of the earlier upload (its id, name or time)
is part of it, since the earlier upload may be somebody else's.
"""

import json
from dataclasses import dataclass

import numpy as np

from mlmodel.predictor import Classification

from . import metrics, reads, store
from .models import Prediction, new_prediction_id
from .serving import site_predictor
from .uploads import Upload, clean_filename


@dataclass(frozen=True)
class Recorded:
    prediction: Prediction
    repeat: bool  # the same file was classified before by the same model: its stored answer is kept


def classify_and_record(uploads: list[Upload]) -> list[Recorded]:
    """Classify and store each upload, in order, each as its own prediction.

    The distinct files are classified in one batch (a file sent twice in one upload once); those the
    active model classified before take their stored classification. A prediction is returned only
    after its rows are written, and counted in the metrics (metrics.py) then, whichever page or API
    call it came from.
    """
    predictor = site_predictor()
    distinct: dict[str, Upload] = {}  # each file at its first upload
    for upload in uploads:
        distinct.setdefault(upload.sha256, upload)
    # The repeat lookups are sent first and answered while the model runs (a round trip each, that
    # made every upload wait before anything else was done): the model runs on every distinct file
    # (a fraction of a millisecond each), and a repeat's stored classification replaces its answer.
    lookups = {sha256: reads.EarlierLookup(sha256, predictor.version) for sha256 in distinct}
    known: dict[str, Classification] = {}
    if distinct:
        inputs = [upload.model_input for upload in distinct.values()]
        pixels = np.stack([model_input.pixels for model_input in inputs])
        second_looks = [model_input.second_look for model_input in inputs]
        known.update(zip(distinct, predictor.classify(pixels, second_looks)))
    first_of: dict[str, Upload] = {}  # the files the model classified anew, each at its first upload
    for sha256, lookup in lookups.items():
        earlier = lookup.result()
        if earlier is not None:
            known[sha256] = classification_of(earlier)
        else:
            first_of[sha256] = distinct[sha256]
    recorded = []
    for upload in uploads:
        repeat = first_of.get(upload.sha256) is not upload
        prediction = _record(upload, known[upload.sha256], predictor.version, repeat)
        recorded.append(Recorded(prediction, repeat))
    metrics.count(
        [item.prediction.label for item in recorded if not item.repeat],
        repeats=sum(item.repeat for item in recorded),
    )
    return recorded


def classification_of(prediction: Prediction) -> Classification:
    """What the model answered for a stored prediction."""
    return Classification(
        label=prediction.label,
        label_index=prediction.label_index,
        confidence=prediction.confidence,
        probabilities=tuple(prediction.probabilities),
        energy=prediction.energy,
        familiarity=prediction.familiarity,
        none_of_the_ten=bool(prediction.none_of_the_ten),
    )


def _record(upload: Upload, classification: Classification, model_version: str, repeat: bool) -> Prediction:
    model_input = upload.model_input
    values = {
        "id": new_prediction_id(),
        "filename": clean_filename(upload.filename),
        "label": classification.label,
        "label_index": classification.label_index,
        "confidence": classification.confidence,
        "probabilities": list(classification.probabilities),
        "model_version": model_version,
        "sha256": upload.sha256,
        "image_format": upload.image_format,
        "image_width": model_input.source_size[0],
        "image_height": model_input.source_size[1],
        "preprocessing": json.dumps(model_input.decisions()),
        "energy": classification.energy,
        "familiarity": classification.familiarity,
        "none_of_the_ten": classification.none_of_the_ten,
        "repeat": repeat,
    }
    images = {
        "model_input_png": model_input.png(),
        "thumbnail_jpeg": upload.thumbnail_jpeg,
        "second_look_png": model_input.second_look_png(),
    }
    return store.record(values, images)
