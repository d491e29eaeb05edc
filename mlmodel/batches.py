"""The batches a training run learns from: augmented Fashion-MNIST images, photo trips and outliers."""

from typing import Protocol

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from mlmodel import augmentation
from mlmodel.classes import CLASS_NAMES
from mlmodel.data import IMAGE_SIZE


class BatchSettings(Protocol):
    """What of a training run's settings (mlmodel.training.TrainingConfig) decides its batches."""

    batch_size: int
    seed: int
    augment: bool  # random shifts and flips, photo trips and outliers
    photo_trip: float  # share of images made to look like a cut-out phone photo
    outlier_share: float  # outliers added per batch, as a share of it


def batches(
    images: np.ndarray, labels: np.ndarray, config: BatchSettings, *, training: bool
) -> tf.data.Dataset:
    """Batches of float32 (n, 28, 28, 1) images and one-hot labels (label smoothing needs them).

    Training batches are made afresh every epoch: part of the images take the photo trip
    (mlmodel.augmentation), and outliers join them with a uniform target (outlier exposure: the
    model learns to spread its belief over the ten classes for what is none of them).
    """
    flip_and_shift = keras.Sequential(
        [
            layers.RandomFlip("horizontal", seed=config.seed),
            # Whole-pixel shifts within the black background: interpolated ones would blur.
            layers.RandomTranslation(
                0.1, 0.1, fill_mode="constant", interpolation="nearest", seed=config.seed
            ),
        ]
    )
    if not training:
        dataset = tf.data.Dataset.from_tensor_slices((images[..., np.newaxis], labels)).batch(
            config.batch_size
        )
        dataset = dataset.map(lambda x, y: (tf.cast(x, tf.float32), tf.one_hot(y, len(CLASS_NAMES))))
        return _without_autotune(dataset.prefetch(2))

    rng = np.random.default_rng(config.seed)
    uniform = np.full(len(CLASS_NAMES), 1 / len(CLASS_NAMES), np.float32)

    def epoch():
        order = rng.permutation(len(images))
        for start in range(0, len(images), config.batch_size):
            chosen = order[start : start + config.batch_size]
            x, y = images[chosen].copy(), labels[chosen]
            if config.augment:
                tripped = rng.random(len(x)) < config.photo_trip
                x[tripped] = augmentation.photo_trip(x[tripped], y[tripped], rng)
            targets = np.eye(len(CLASS_NAMES), dtype=np.float32)[y]
            outlier_count = round(len(x) * config.outlier_share) if config.augment else 0
            if outlier_count:
                x = np.concatenate([x, augmentation.outliers(images, labels, outlier_count, rng)])
                targets = np.concatenate([targets, np.tile(uniform, (outlier_count, 1))])
            yield x[..., np.newaxis], targets

    signature = (
        tf.TensorSpec((None, IMAGE_SIZE, IMAGE_SIZE, 1), tf.uint8),
        tf.TensorSpec((None, len(CLASS_NAMES)), tf.float32),
    )
    dataset = tf.data.Dataset.from_generator(epoch, output_signature=signature)

    def prepare(x: tf.Tensor, y: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        x = tf.cast(x, tf.float32)
        if config.augment:
            x = flip_and_shift(x, training=True)
        return x, y

    # Mapped one batch at a time: parallel calls race for the random layers' seeds, and runs would differ.
    return _without_autotune(dataset.map(prepare).prefetch(4))


def _without_autotune(dataset: tf.data.Dataset) -> tf.data.Dataset:
    # Nothing here is tuned (one map call, a fixed prefetch), and tf.data's autotuning cost a default
    # run 15 to 40 s at some epoch starts, the CPU idle: freeing the last epoch's iterator waited for
    # its tuning thread to come out of its sleep between rounds (gdb: the main thread in
    # ~LogicalThreadWrapper, that thread in model::Model::OptimizeLoop).
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)
