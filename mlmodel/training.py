"""Training the network on Fashion-MNIST and measuring it on the test set."""

import math
import time
from dataclasses import dataclass

import keras
import numpy as np

from mlmodel.data import Dataset
from mlmodel.network import build_model


@dataclass(frozen=True)
class TrainingConfig:
    """Everything that decides a training run; the defaults made the shipped model."""

    epochs: int = 8
    batch_size: int = 128
    subset: int | None = None  # train on this many randomly chosen training images; None for all
    seed: int = 42
    learning_rate: float = 2e-3  # the peak; it decays to zero along a cosine over the run
    validation_split: float = 0.1


@dataclass
class TrainingResult:
    """A trained model with its test-set scores, per-epoch history and duration."""

    model: keras.Model
    config: TrainingConfig
    test_accuracy: float
    test_loss: float
    history: dict[str, list[float]]
    wall_time_s: float


def train(config: TrainingConfig, dataset: Dataset, *, verbose: int = 1) -> TrainingResult:
    """Build, compile and fit the network, then evaluate it on the whole test set."""
    started = time.perf_counter()
    keras.utils.set_random_seed(config.seed)
    x_train, y_train = _training_images(config, dataset)

    model = build_model()
    steps_per_epoch = math.ceil(len(x_train) * (1 - config.validation_split) / config.batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(config.learning_rate, steps_per_epoch * config.epochs)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(
        x_train,
        y_train,
        batch_size=config.batch_size,
        epochs=config.epochs,
        validation_split=config.validation_split,
        verbose=verbose,
    )
    test_loss, test_accuracy = model.evaluate(_as_model_input(dataset.x_test), dataset.y_test, verbose=0)
    return TrainingResult(
        model=model,
        config=config,
        test_accuracy=float(test_accuracy),
        test_loss=float(test_loss),
        history={name: [float(value) for value in values] for name, values in history.history.items()},
        wall_time_s=time.perf_counter() - started,
    )


def _training_images(config: TrainingConfig, dataset: Dataset) -> tuple[np.ndarray, np.ndarray]:
    x, y = dataset.x_train, dataset.y_train
    if config.subset is not None and config.subset < len(x):
        chosen = np.random.default_rng(config.seed).choice(len(x), size=config.subset, replace=False)
        x, y = x[chosen], y[chosen]
    return _as_model_input(x), y


def _as_model_input(images: np.ndarray) -> np.ndarray:
    """uint8 (n, 28, 28) to float32 (n, 28, 28, 1), still in 0..255: the model rescales."""
    return images.astype(np.float32)[..., np.newaxis]
