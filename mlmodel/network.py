"""The convolutional network that classifies 28x28 Fashion-MNIST images."""

import keras
import numpy as np
from keras import layers

from mlmodel.batch_norm import FusedBatchNormalization
from mlmodel.classes import CLASS_NAMES
from mlmodel.data import IMAGE_SIZE


def build_model(
    dropout_rate: float = 0.1, width: float = 1.0, *, fused_batch_norm: bool = False
) -> keras.Model:
    """A compact batch-normalised CNN: raw 0..255 pixels (28, 28, 1) in, class logits out.
    `width` multiplies the filters of every convolution (32-64-64-128-128 at 1).
    `fused_batch_norm` trains faster, with the same weights (batch_norm.FusedBatchNormalization).

    Rescaling is part of the model, so serving feeds the pixels as they are. The
    logits become probabilities, at a fitted temperature, for serving (mlmodel.litert).
    """
    batch_normalization = FusedBatchNormalization if fused_batch_norm else layers.BatchNormalization

    def conv_block(filters: int) -> list[layers.Layer]:
        # No bias: BatchNormalization's offset takes its place. Its momentum is 0.9 rather
        # than 0.99 so that its running statistics settle even in a short run on a subset.
        return [
            layers.Conv2D(round(filters * width), 3, padding="same", use_bias=False),
            batch_normalization(momentum=0.9),
            layers.ReLU(),
        ]

    return keras.Sequential(
        [
            keras.Input(shape=(IMAGE_SIZE, IMAGE_SIZE, 1)),
            layers.Rescaling(1 / 255),
            *conv_block(32),
            layers.MaxPooling2D(),
            *conv_block(64),
            *conv_block(64),
            layers.MaxPooling2D(),
            *conv_block(128),
            *conv_block(128),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dense(256, use_bias=False),
            batch_normalization(momentum=0.9),
            layers.ReLU(),
            layers.Dropout(dropout_rate),
            # float32 whatever the training precision: the loss and the softmax need its range.
            layers.Dense(len(CLASS_NAMES), dtype="float32", name="logits"),
        ],
        name="fashion_cnn",
    )


def feature_extractor(model: keras.Model) -> keras.Model:
    """The network without its last layer (sharing its weights): pixels in, the penultimate
    features out, the values the "logits" layer turns into logits."""
    return keras.Sequential(model.layers[:-1], name="features")


def model_features(model: keras.Model, images: np.ndarray) -> np.ndarray:
    """The penultimate features (n, 256) of uint8 images (n, 28, 28), averaged with those of their
    mirror images, as served (mlmodel.litert): the network learnt both ways round, and the mean of
    two looks is right more often than either."""
    images = images.astype(np.float32)[..., np.newaxis]
    extractor = feature_extractor(model)
    looks = extractor.predict(images, batch_size=1000, verbose=0)
    return (looks + extractor.predict(images[:, :, ::-1], batch_size=1000, verbose=0)) / 2


def logits_of(model: keras.Model, features: np.ndarray) -> np.ndarray:
    """What the model's last layer makes of penultimate features."""
    kernel, bias = model.get_layer("logits").get_weights()
    return features @ kernel + bias


def model_logits(model: keras.Model, images: np.ndarray) -> np.ndarray:
    """The logits (n, 10) of uint8 images (n, 28, 28) as served: the last layer is linear, so these
    are also the mean of the image's and its mirror image's logits."""
    return logits_of(model, model_features(model, images))
