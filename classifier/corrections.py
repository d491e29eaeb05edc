"""The predictions staff corrected, as training examples for `train_model --include-corrections`.

Found through the SAI index on `prediction(corrected_label)`, one query per class (see
models/predictions.py: a cleared correction or a deleted prediction drops out of it by itself); each
one's 28x28 model input (and second look, if taken) is read from `prediction_images` by id. What
leaves this module is plain numpy arrays (`mlmodel.data.LabelledImages`), so the training code needs
neither Django nor Cassandra.
"""

from __future__ import annotations

import datetime
import io
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from cassandra.concurrent import execute_concurrent_with_args
from PIL import Image

from mlmodel.classes import CLASS_NAMES
from mlmodel.data import IMAGE_SIZE, LabelledImages

from . import cql
from .models import Prediction, PredictionImages

logger = logging.getLogger(__name__)

_IMAGE_READS_IN_FLIGHT = 32
_LONG_AGO = datetime.datetime.min


@dataclass(frozen=True)
class Correction:
    id: uuid.UUID
    label_index: int  # the corrected label's index in CLASS_NAMES
    corrected_at: datetime.datetime


def corrections() -> list[Correction]:
    """Every corrected prediction, the newest correction first."""
    statement = (
        f"SELECT id, corrected_label, corrected_at FROM {cql.table(Prediction)} WHERE corrected_label = ?"
    )
    queries = [(statement, (label,)) for label in CLASS_NAMES]
    found = [
        Correction(row["id"], CLASS_NAMES.index(row["corrected_label"]), row["corrected_at"])
        for row in cql.chain(queries, window=len(queries), max_window=len(queries), fetch_size=1000)
    ]
    return sorted(found, key=lambda correction: correction.corrected_at or _LONG_AGO, reverse=True)


def corrected_examples() -> LabelledImages:
    """The corrected predictions' model inputs with their corrected labels, one per distinct image.

    The pixels are the stored PNG decoded as is: uint8 0..255, light on black, exactly what the
    model was given. A prediction that took a second look (a garment wider than tall) gives that
    look too, as an example of its own: the model answers from both, so it must learn both. An image
    uploaded more than once (another file format, or again under a later model) and corrected each
    time counts once, with its newest correction.
    """
    images: dict[bytes, tuple[np.ndarray, int, str]] = {}
    for correction, looks in _with_model_inputs(corrections()):
        for pixels, source in zip(looks, (str(correction.id), f"{correction.id} second look")):
            images.setdefault(pixels.tobytes(), (pixels, correction.label_index, source))
    chosen = list(images.values())
    pixels = np.array([pixels for pixels, _, _ in chosen], dtype=np.uint8)
    return LabelledImages(
        images=pixels.reshape(-1, IMAGE_SIZE, IMAGE_SIZE),
        labels=np.array([label for _, label, _ in chosen], dtype=np.uint8),
        sources=tuple(source for _, _, source in chosen),
    )


def _with_model_inputs(found: list[Correction]) -> Iterator[tuple[Correction, list[np.ndarray]]]:
    """Each correction with its decoded model input and second look (if taken), in order; one deleted
    meanwhile is skipped."""
    statement = cql.prepare(
        f"SELECT model_input_png, second_look_png FROM {cql.table(PredictionImages)} WHERE id = ?"
    )
    results = execute_concurrent_with_args(
        cql.session(),
        statement,
        [(correction.id,) for correction in found],
        concurrency=_IMAGE_READS_IN_FLIGHT,
        raise_on_first_error=True,
    )
    for correction, (_, rows) in zip(found, results):
        row = rows.one()
        if row is None:
            continue
        looks = [model_input_pixels(png) for png in (row["model_input_png"], row["second_look_png"]) if png]
        if any(look is None for look in looks):
            logger.warning("Prediction %s: its model input is no 28x28 grey image; left out", correction.id)
            continue
        yield correction, looks


def model_input_pixels(png: bytes) -> np.ndarray | None:
    """The stored model input as the (28, 28) uint8 array it was made from; None if it is not one."""
    with Image.open(io.BytesIO(png)) as image:
        if image.mode != "L" or image.size != (IMAGE_SIZE, IMAGE_SIZE):
            return None
        return np.asarray(image, dtype=np.uint8)
