"""Classify validated uploads (uploads.py) and record each prediction in Cassandra (store.py)."""

import io
import json
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from PIL import Image

from mlmodel.predictor import Classification, Predictor, get_predictor
from mlmodel.preprocessing import ModelInput, to_model_input, working_copy

from . import metrics, reads, store
from .models import Prediction, new_prediction_id
from .uploads import Upload, clean_filename

THUMBNAIL_SIZE = (160, 160)


@dataclass(frozen=True)
class Recorded:
    prediction: Prediction
    repeat: bool  # the same file was classified before by the same model: nothing new was stored


def thumbnail_jpeg(image: Image.Image) -> bytes:
    """A small JPEG of the picture upright, made from the reduced copy preprocessing works on."""
    thumbnail = working_copy(image)
    thumbnail = thumbnail.convert("RGBA") if thumbnail.mode in {"P", "LA", "PA"} else thumbnail
    if thumbnail.mode == "RGBA":  # JPEG has no alpha: show transparent parts as white
        background = Image.new("RGB", thumbnail.size, "white")
        background.paste(thumbnail, mask=thumbnail.getchannel("A"))
        thumbnail = background
    thumbnail = thumbnail.convert("RGB")
    thumbnail.thumbnail(THUMBNAIL_SIZE, Image.Resampling.BILINEAR, reducing_gap=2.0)
    buffer = io.BytesIO()
    thumbnail.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def classify_and_record(uploads: list[Upload]) -> list[Recorded]:
    """Classify and store each upload, in order; a file seen before by the active model is not recomputed.

    New images are classified in one batch; a prediction is returned only after its rows are written,
    and counted in the metrics (metrics.py) then, whichever page or API call it came from.
    """
    predictor = get_predictor(settings.MODEL_DIR)
    seen: dict[str, Prediction] = {}
    new: dict[str, Upload] = {}
    for upload in uploads:
        if upload.sha256 not in new and upload.sha256 not in seen:
            earlier = reads.earlier_prediction(upload.sha256, predictor.version)
            if earlier is None:
                new[upload.sha256] = upload
            else:
                seen[upload.sha256] = earlier
    fresh = _classify_and_store(list(new.values()), predictor)
    recorded = []
    for upload in uploads:
        if upload.sha256 in fresh:
            seen[upload.sha256] = fresh.pop(upload.sha256)
            recorded.append(Recorded(seen[upload.sha256], repeat=False))
        else:
            recorded.append(Recorded(seen[upload.sha256], repeat=True))
    metrics.count(
        [item.prediction.label for item in recorded if not item.repeat],
        repeats=sum(item.repeat for item in recorded),
    )
    return recorded


def _classify_and_store(uploads: list[Upload], predictor: Predictor) -> dict[str, Prediction]:
    if not uploads:
        return {}
    inputs = [to_model_input(upload.image) for upload in uploads]
    classifications = predictor.classify(np.stack([model_input.pixels for model_input in inputs]))
    return {
        upload.sha256: _record(upload, model_input, classification, predictor.version)
        for upload, model_input, classification in zip(uploads, inputs, classifications)
    }


def _record(
    upload: Upload, model_input: ModelInput, classification: Classification, model_version: str
) -> Prediction:
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
        "none_of_the_ten": classification.none_of_the_ten,
    }
    images = {"model_input_png": model_input.png(), "thumbnail_jpeg": thumbnail_jpeg(upload.image)}
    return store.record(values, images)
