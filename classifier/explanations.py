"""The heat map of why a prediction came out as it did: computed when first asked for, then kept.

Never on the upload path: the result page asks for it (its first view computes it, a few dozen
forward passes of the served LiteRT model, mlmodel.explanation), and `prediction_explanation` keeps
it (store.save_explanation, reads.explanation_of). The map is made by the model version that made
the prediction, which may no longer be the active one; a version no longer in MODEL_DIR cannot
explain, and the page says so.
"""

from __future__ import annotations

import io
import threading
from pathlib import Path

import numpy as np
from django.conf import settings
from PIL import Image

from mlmodel.explanation import METHOD, Occlusion, occlusion
from mlmodel.predictor import Predictor

from . import reads, store
from .models import Prediction
from .serving import site_predictor

# Earlier versions kept loaded for explaining their predictions (a model is about 2 MB).
KEEP_EARLIER_VERSIONS = 2

_earlier: dict[tuple[Path, str], Predictor] = {}
_loading = threading.Lock()


class Unexplainable(Exception):
    """The prediction's model version is not installed; the message is meant for the visitor."""


def predictor_for(version: str) -> Predictor:
    """The predictor of this model version: the served one when it is active, else loaded once."""
    model_dir = Path(settings.MODEL_DIR)
    served = site_predictor()
    if served.version == version:
        return served
    with _loading:
        key = (model_dir, version)
        if key not in _earlier:
            try:
                predictor = Predictor.load(version, model_dir, settings.PREDICTOR_PRECISION)
            except (FileNotFoundError, ValueError):
                raise Unexplainable(
                    f"The model version that made this prediction ({version}) is no longer installed, "
                    "so why it answered so cannot be shown."
                ) from None
            while len(_earlier) >= KEEP_EARLIER_VERSIONS:
                _earlier.pop(next(iter(_earlier)))
            _earlier[key] = predictor
        return _earlier[key]


def explanation(prediction: Prediction) -> Occlusion:
    """The prediction's occlusion map: the kept one, or computed now and kept. Unexplainable when
    the model version that made it is gone."""
    kept = reads.explanation_of(prediction.id)
    if kept is not None and kept["method"] == METHOD:
        return Occlusion.from_bytes(kept["sensitivity"], kept["probability"], kept["lowest"])
    images = reads.images_or_404(prediction.id)
    pixels = _grey_pixels(images.model_input_png)
    second_look = None if images.second_look_png is None else _grey_pixels(images.second_look_png)
    made = occlusion(predictor_for(prediction.model_version), pixels, prediction.label_index, second_look)
    store.save_explanation(prediction.id, METHOD, made.to_bytes(), made.probability, made.lowest)
    return made


def _grey_pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("L"))
