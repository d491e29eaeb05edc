"""Serving predictions from the active model, loaded once per process."""

import threading
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from mlmodel import artifacts
from mlmodel.classes import CLASS_NAMES
from mlmodel.data import IMAGE_SIZE


@dataclass(frozen=True)
class Classification:
    label: str
    label_index: int
    confidence: float
    probabilities: tuple[float, ...]  # one per class in CLASS_NAMES order, summing to 1


class Predictor:
    """One loaded model version, callable from many threads at once."""

    def __init__(self, model: keras.Model, version: str) -> None:
        self.version = version
        self._model = model
        # model.predict sets up a whole data pipeline on every call; a traced function
        # with a fixed signature is one cheap graph call, traced once, here.
        self._forward = tf.function(
            self._probabilities,
            input_signature=[tf.TensorSpec(shape=(None, IMAGE_SIZE, IMAGE_SIZE), dtype=tf.uint8)],
        )
        self._forward.get_concrete_function()

    @classmethod
    def load(cls, version: str, model_dir: Path | str) -> "Predictor":
        model = keras.saving.load_model(artifacts.model_path(version, model_dir), compile=False)
        return cls(model, version)

    def classify(self, pixels: np.ndarray) -> list[Classification]:
        """Classify (n, 28, 28) uint8 images, light garments on black, in one forward pass."""
        if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
            raise ValueError(f"Expected uint8 images of shape (n, 28, 28), got {pixels.dtype} {pixels.shape}")
        if len(pixels) == 0:
            return []
        probabilities = self._forward(tf.convert_to_tensor(pixels)).numpy().astype(np.float64)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        return [_classification(row) for row in probabilities]

    def _probabilities(self, pixels: tf.Tensor) -> tf.Tensor:
        images = tf.cast(pixels, tf.float32)[..., tf.newaxis]
        return self._model(images, training=False)


def _classification(probabilities: np.ndarray) -> Classification:
    index = int(np.argmax(probabilities))
    return Classification(
        label=CLASS_NAMES[index],
        label_index=index,
        confidence=float(probabilities[index]),
        probabilities=tuple(float(p) for p in probabilities),
    )


_predictors: dict[Path, Predictor] = {}
_loading = threading.Lock()


def get_predictor(model_dir: Path | str | None = None) -> Predictor:
    """The predictor for the active version in model_dir (default: the shipped artifacts).

    Loaded once per process and model directory. Each call rereads the small ACTIVE
    file, so activating another version takes effect without a restart.
    """
    key = Path(model_dir if model_dir is not None else artifacts.DEFAULT_MODEL_DIR).resolve()
    version = artifacts.active_version(key)
    predictor = _predictors.get(key)
    if predictor is not None and predictor.version == version:
        return predictor
    with _loading:
        # Reread: another thread may have loaded a newer activation meanwhile.
        version = artifacts.active_version(key)
        predictor = _predictors.get(key)
        if predictor is None or predictor.version != version:
            predictor = Predictor.load(version, key)
            _predictors[key] = predictor
        return predictor
