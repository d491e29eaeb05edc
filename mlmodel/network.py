"""The convolutional network that classifies 28x28 Fashion-MNIST images."""

import keras
from keras import layers

from mlmodel.classes import CLASS_NAMES
from mlmodel.data import IMAGE_SIZE


def build_model(dropout_rate: float = 0.3) -> keras.Model:
    """A compact batch-normalised CNN: raw 0..255 pixels (28, 28, 1) in, class logits out.

    Rescaling is part of the model, so serving feeds the pixels as they are. The
    logits become probabilities, at a fitted temperature, for serving (mlmodel.litert).
    """

    def conv_block(filters: int) -> list[layers.Layer]:
        # No bias: BatchNormalization's offset takes its place. Its momentum is 0.9 rather
        # than 0.99 so that its running statistics settle even in a short run on a subset.
        return [
            layers.Conv2D(filters, 3, padding="same", use_bias=False),
            layers.BatchNormalization(momentum=0.9),
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
            layers.BatchNormalization(momentum=0.9),
            layers.ReLU(),
            layers.Dropout(dropout_rate),
            # float32 whatever the training precision: the loss and the softmax need its range.
            layers.Dense(len(CLASS_NAMES), dtype="float32", name="logits"),
        ],
        name="fashion_cnn",
    )
