"""Classify uploaded images and record each prediction in Cassandra."""

import hashlib
import io
import json
import unicodedata
import uuid
from dataclasses import dataclass
from functools import cached_property
from pathlib import PurePosixPath, PureWindowsPath

import numpy as np
from django.conf import settings
from PIL import Image

from mlmodel.predictor import get_predictor
from mlmodel.preprocessing import ModelInput, to_model_input, working_copy

from . import store, timeline
from .models import Prediction

THUMBNAIL_SIZE = (160, 160)
MAX_FILENAME_LENGTH = 200
MAX_EXTENSION_LENGTH = 16  # a longer "extension" is just the end of a long name


@dataclass(frozen=True)
class Upload:
    """An upload that passed validation: its name, raw bytes and decoded first frame."""

    filename: str
    data: bytes
    image: Image.Image
    image_format: str

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class Recorded:
    prediction: Prediction
    repeat: bool  # the same file was classified before by the same model: nothing new was stored


def clean_filename(name: str) -> str:
    """The file's own name without any directory part or control characters, at most
    MAX_FILENAME_LENGTH characters long (a longer one loses the end of its stem, not its extension)."""
    name = unicodedata.normalize("NFC", name)
    name = PureWindowsPath(PurePosixPath(name).name).name
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C").strip()
    if len(name) > MAX_FILENAME_LENGTH:  # shorten the stem, so that the name keeps its extension
        extension = PurePosixPath(name).suffix
        if len(extension) > MAX_EXTENSION_LENGTH:
            extension = ""
        name = name.removesuffix(extension)[: MAX_FILENAME_LENGTH - len(extension)].rstrip() + extension
    return name or "upload"


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

    New images are classified in one batch; a prediction is returned only after its rows are written.
    """
    predictor = get_predictor(settings.MODEL_DIR)
    seen: dict[str, Prediction] = {}
    new: dict[str, Upload] = {}
    for upload in uploads:
        if upload.sha256 not in new and upload.sha256 not in seen:
            earlier = timeline.earlier_prediction(upload.sha256, predictor.version)
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
    return recorded


def _classify_and_store(uploads: list[Upload], predictor) -> dict[str, Prediction]:
    if not uploads:
        return {}
    inputs = [to_model_input(upload.image) for upload in uploads]
    classifications = predictor.classify(np.stack([model_input.pixels for model_input in inputs]))
    return {
        upload.sha256: _record(upload, model_input, classification, predictor.version)
        for upload, model_input, classification in zip(uploads, inputs, classifications)
    }


def _record(upload: Upload, model_input: ModelInput, classification, model_version: str) -> Prediction:
    values = {
        "id": uuid.uuid1(),
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
    }
    images = {"model_input_png": model_input.png(), "thumbnail_jpeg": thumbnail_jpeg(upload.image)}
    return store.record(values, images)
