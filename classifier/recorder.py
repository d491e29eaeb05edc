"""Classify uploaded images and record each prediction in Cassandra."""

import hashlib
import io
import json
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

import numpy as np
from cassandra.cqlengine.query import BatchQuery
from django.conf import settings
from PIL import Image

from mlmodel.preprocessing import ModelInput, to_model_input

from .models import Prediction, PredictionImages, partition_of

THUMBNAIL_SIZE = (160, 160)
MAX_FILENAME_LENGTH = 200


@dataclass(frozen=True)
class Upload:
    """An upload that passed validation: its name, raw bytes and decoded first frame."""

    filename: str
    data: bytes
    image: Image.Image
    image_format: str


def clean_filename(name: str) -> str:
    """The file's own name without any directory part or control characters, of bounded length."""
    name = unicodedata.normalize("NFC", name)
    name = PureWindowsPath(PurePosixPath(name).name).name
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C").strip()
    return name[:MAX_FILENAME_LENGTH] or "upload"


def thumbnail_jpeg(image: Image.Image) -> bytes:
    thumbnail = image.convert("RGBA") if image.mode in {"P", "LA", "PA"} else image
    if thumbnail.mode == "RGBA":  # JPEG has no alpha: show transparent parts as white
        background = Image.new("RGB", thumbnail.size, "white")
        background.paste(thumbnail, mask=thumbnail.getchannel("A"))
        thumbnail = background
    thumbnail = thumbnail.convert("RGB")
    thumbnail.thumbnail(THUMBNAIL_SIZE, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    thumbnail.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def classify_and_record(uploads: list[Upload]) -> list[Prediction]:
    """Classify all uploads in one batch, then store each; return the stored predictions in order.

    A prediction is returned only after both of its rows are written.
    """
    # Imported on first use: TensorFlow takes seconds to import, which every manage.py command
    # (their URL checks import this module) would otherwise pay.
    from mlmodel.predictor import get_predictor

    inputs = [to_model_input(upload.image) for upload in uploads]
    predictor = get_predictor(settings.MODEL_DIR)
    classifications = predictor.classify(np.stack([model_input.pixels for model_input in inputs]))
    return [
        _record(upload, model_input, classification, predictor.version)
        for upload, model_input, classification in zip(uploads, inputs, classifications)
    ]


def _record(upload: Upload, model_input: ModelInput, classification, model_version: str) -> Prediction:
    prediction_id = uuid.uuid1()
    day, hour = partition_of(prediction_id)
    with BatchQuery() as batch:
        prediction = Prediction.batch(batch).create(
            day=day,
            hour=hour,
            id=prediction_id,
            filename=clean_filename(upload.filename),
            label=classification.label,
            label_index=classification.label_index,
            confidence=classification.confidence,
            probabilities=list(classification.probabilities),
            model_version=model_version,
            sha256=hashlib.sha256(upload.data).hexdigest(),
            image_format=upload.image_format,
            image_width=upload.image.width,
            image_height=upload.image.height,
            preprocessing=json.dumps(model_input.decisions()),
        )
        PredictionImages.batch(batch).create(
            id=prediction_id,
            model_input_png=model_input.png(),
            thumbnail_jpeg=thumbnail_jpeg(upload.image),
        )
    return prediction
