"""The LiteRT export of a model: the file that serving runs, without TensorFlow."""

import tempfile
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from mlmodel.data import IMAGE_SIZE
from mlmodel.network import feature_extractor
from mlmodel.photo_detector import Detector


def serving_model(model: keras.Model, temperature: float, detector: Detector | None = None) -> keras.Model:
    """The function that is served: uint8 pixels (n, 28, 28) in; calibrated class probabilities (n, 10),
    the energy score (n,) and, with a detector, the familiarity (n,) out, in that order
    (mlmodel.novelty: both are low for what is none of the ten classes).

    model maps float pixels (n, 28, 28, 1) to logits; temperature is the one fitted
    to them (see mlmodel.evaluation.fit_temperature).
    """
    pixels = keras.Input(shape=(IMAGE_SIZE, IMAGE_SIZE), dtype="uint8")
    images = keras.ops.expand_dims(keras.ops.cast(pixels, "float32"), axis=-1)
    # Averaged with the mirror image's, as in training's evaluation (network.model_features).
    extractor = feature_extractor(model)
    features = (extractor(images) + extractor(keras.ops.flip(images, axis=2))) / 2
    scaled = model.get_layer("logits")(features) / temperature
    probabilities = keras.ops.softmax(scaled)
    outputs = [probabilities, temperature * keras.ops.logsumexp(scaled, axis=1)]
    if detector is not None:
        outputs.append(detector.familiarity(features))
    return keras.Model(pixels, outputs, name="serving")


def export(model: keras.Model, temperature: float, path: Path, detector: Detector | None = None) -> None:
    """Write the serving function of a trained model as a LiteRT flatbuffer (.tflite)."""
    serving_model(model, temperature, detector).export(
        str(path),
        format="litert",
        verbose=False,
        # Built-in operators only: the LiteRT runtime then needs nothing from TensorFlow.
        target_spec={"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS]},
    )


def export_int8(
    model: keras.Model,
    temperature: float,
    path: Path,
    calibration: np.ndarray,
    detector: Detector | None = None,
) -> None:
    """Write the same serving function with int8 weights and activations (post-training quantisation).

    calibration: uint8 images (n, 28, 28) from the training split; their activation ranges fix the
    quantisation scales (a few hundred suffice). Input (uint8 pixels) and outputs (float
    probabilities and scores) are those of `export`, so the predictor serves either file; operators
    without an int8 kernel stay float. Measured against the float export by bench/predictor.py --int8.
    """
    with tempfile.TemporaryDirectory() as saved:
        serving_model(model, temperature, detector).export(saved, format="tf_saved_model", verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(saved)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([image[np.newaxis]] for image in calibration)
        converter.target_spec.supported_ops = [
            tf.lite.OpsSet.TFLITE_BUILTINS_INT8,
            tf.lite.OpsSet.TFLITE_BUILTINS,
        ]
        Path(path).write_bytes(converter.convert())
