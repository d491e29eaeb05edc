"""Training the network on Fashion-MNIST, calibrating it and measuring it on the test set."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from mlmodel import augmentation, novelty
from mlmodel.classes import CLASS_NAMES
from mlmodel.data import IMAGE_SIZE, Dataset, LabelledImages
from mlmodel.evaluation import Evaluation, evaluate, fit_temperature
from mlmodel.network import build_model

# Of the steps of a run, the share spent warming the learning rate up to its peak.
_WARMUP_SHARE = 0.1
# Extra examples (corrected uploads) are oversampled: see extra_repeats().
EXTRA_REPEATS = 5
EXTRA_MAX_SHARE = 0.1


@dataclass(frozen=True)
class TrainingConfig:
    """Everything that decides a training run; the defaults made the shipped model."""

    epochs: int = 14
    batch_size: int = 256
    subset: int | None = None  # train on this many randomly chosen training images; None for all
    seed: int = 42
    learning_rate: float = 3e-3  # the peak, after a linear warm-up; then a cosine decay to zero
    label_smoothing: float = 0.1
    augment: bool = True  # random shifts of up to 10% and horizontal flips
    photo_trip: float = 0.35  # share of training images made to look like a cut-out phone photo
    outlier_share: float = 0.06  # outliers (none of the ten) added per batch, as a share of it
    precision: str = "auto"  # "bfloat16" (mixed), "float32", or "auto": bfloat16 where the CPU has it
    validation_split: float = 0.1  # held out to follow the run and to fit the temperature
    # Fine-tune the active model (its weights as the start) instead of training from random weights:
    # a few epochs teach it corrected uploads while it keeps what it knew.
    start_from_active: bool = False


PROFILES: dict[str, TrainingConfig] = {
    "quick": TrainingConfig(epochs=3, subset=12_000),
    "default": TrainingConfig(),
    "best": TrainingConfig(epochs=50),
    "adapt": TrainingConfig(epochs=4, learning_rate=1e-3, start_from_active=True),
}


@dataclass
class TrainingResult:
    """A trained model (float32, logits out) with its temperature, scores, history and duration."""

    model: keras.Model
    config: TrainingConfig
    precision: str  # the one used: "bfloat16" or "float32"
    test: Evaluation
    history: dict[str, list[float]]
    wall_time_s: float
    none_of_the_ten_below: float | None = None  # energy threshold: below it, probably none of the ten
    none_of_the_ten_set_on: str = ""  # what the threshold was set on
    extra_examples: int = 0  # extra labelled images added to the training split
    extra_repeats: int = 0  # copies of each in it

    @property
    def test_accuracy(self) -> float:
        return self.test.accuracy

    @property
    def test_loss(self) -> float:
        return self.test.loss

    @property
    def temperature(self) -> float:
        return self.test.temperature


def train(
    config: TrainingConfig,
    dataset: Dataset,
    *,
    extra: LabelledImages | None = None,
    calibration: novelty.CalibrationPhotos | None = None,
    initial_weights: Path | None = None,
    verbose: int = 1,
) -> TrainingResult:
    """Build, compile and fit the network, fit its temperature, then evaluate it on the whole test set.

    `extra` examples join the training split only (oversampled, see extra_repeats()); validation,
    temperature and test figures stay pure Fashion-MNIST, comparable with runs without them.
    """
    started = time.perf_counter()
    keras.utils.set_random_seed(config.seed)
    (x_train, y_train), (x_val, y_val) = _split(config, dataset)
    repeats = extra_repeats(len(extra), len(x_train)) if extra is not None else 0
    if repeats:
        x_train = np.concatenate([x_train, *[extra.images] * repeats])
        y_train = np.concatenate([y_train, *[extra.labels] * repeats])
    precision = resolve_precision(config.precision)

    model = _build_model(precision)
    if initial_weights is not None:
        model.set_weights(_weights_of(initial_weights, model))
    steps = math.ceil(len(x_train) / config.batch_size) * config.epochs
    warmup_steps = math.ceil(steps * _WARMUP_SHARE)
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=config.learning_rate / 100,
        decay_steps=steps - warmup_steps,
        warmup_target=config.learning_rate,
        warmup_steps=warmup_steps,
    )
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss=keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=config.label_smoothing),
        metrics=["accuracy"],
        jit_compile=True,
    )
    history = model.fit(
        _batches(x_train, y_train, config, training=True),
        validation_data=_batches(x_val, y_val, config, training=False),
        epochs=config.epochs,
        shuffle=False,  # the dataset shuffles itself
        verbose=verbose,
    )

    # Served and measured in float32: the LiteRT export has no bfloat16, and the
    # weights themselves are float32 whatever the training precision.
    served = build_model()
    served.set_weights(model.get_weights())
    temperature = fit_temperature(model_logits(served, x_val), y_val)
    test = evaluate(model_logits(served, dataset.x_test), dataset.y_test, temperature)
    none_below, set_on = _none_of_the_ten_threshold(served, temperature, calibration, x_val, y_val, config)
    return TrainingResult(
        model=served,
        config=config,
        precision=precision,
        test=test,
        history={name: [float(value) for value in values] for name, values in history.history.items()},
        wall_time_s=time.perf_counter() - started,
        none_of_the_ten_below=none_below,
        none_of_the_ten_set_on=set_on,
        extra_examples=len(extra) if repeats else 0,
        extra_repeats=repeats,
    )


def _none_of_the_ten_threshold(
    model: keras.Model,
    temperature: float,
    calibration: novelty.CalibrationPhotos | None,
    x_val: np.ndarray,
    y_val: np.ndarray,
    config: TrainingConfig,
) -> tuple[float, str]:
    """The energy threshold of "none of the ten", set where FLAGGED_SHARE of right answers fall below it:
    on real photos when given, else on validation images made to look like phone photos."""
    if calibration is not None:
        logits = model_logits(model, calibration.images)
        right = calibration.right(logits.argmax(axis=1))
        source = f"{int(right.sum())} right answers on real photos (tune split)"
    if calibration is None or right.sum() < novelty.MIN_RIGHT_ANSWERS:
        rng = np.random.default_rng(config.seed)
        logits = model_logits(model, augmentation.photo_trip(x_val, y_val, rng))
        right = logits.argmax(axis=1) == y_val
        source = f"{int(right.sum())} right answers on validation images made to look like phone photos"
    return novelty.threshold(novelty.energy(logits[right], temperature)), source


def extra_repeats(extra_count: int, train_count: int) -> int:
    """How many copies of each extra example join `train_count` Fashion-MNIST training images.

    Corrected uploads are few (dozens or hundreds against up to 54,000 images) but are the very
    inputs the site gets wrong, so each goes in EXTRA_REPEATS (5) times: enough to be learnt in a
    few epochs, where a single copy would barely move the weights. Copies rather than a larger
    loss weight because each copy is augmented afresh (shifted, flipped), so the network sees five
    variants instead of one image with a five-fold gradient. Capped so that the copies stay within
    EXTRA_MAX_SHARE (10%) of the Fashion-MNIST images: staff labels can be wrong, and a few
    hundred images must not pull the model away from the data its test accuracy is measured on.
    Every example goes in at least once.
    """
    if extra_count == 0:
        return 0
    return max(1, min(EXTRA_REPEATS, int(EXTRA_MAX_SHARE * train_count / extra_count)))


def _weights_of(saved: Path, model: keras.Model) -> list[np.ndarray]:
    """The weights of a saved model, which must have this network's architecture."""
    weights = keras.models.load_model(saved, compile=False).get_weights()
    expected = [weight.shape for weight in model.get_weights()]
    if [weight.shape for weight in weights] != expected:
        raise ValueError(f"{saved} is another network than this one: it cannot be fine-tuned, train afresh")
    return weights


def resolve_precision(precision: str) -> str:
    """The precision to train in: "auto" becomes "bfloat16" when the CPU has bfloat16 instructions."""
    if precision not in ("auto", "bfloat16", "float32"):
        raise ValueError(f"precision must be auto, bfloat16 or float32, not {precision!r}")
    if precision != "auto":
        return precision
    return "bfloat16" if _cpu_has_bfloat16() else "float32"


def _cpu_has_bfloat16() -> bool:
    # Without these instructions oneDNN emulates bfloat16, which is slower than float32.
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    flags = set(cpuinfo.split())
    return bool(flags & {"avx512_bf16", "amx_bf16"})


def _build_model(precision: str) -> keras.Model:
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16" if precision == "bfloat16" else "float32")
    try:
        return build_model()
    finally:
        keras.config.set_dtype_policy(previous)


def _split(config: TrainingConfig, dataset: Dataset) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """The training images (a random subset if asked for), shuffled and split into train and validation."""
    rng = np.random.default_rng(config.seed)
    count = len(dataset.x_train) if config.subset is None else min(config.subset, len(dataset.x_train))
    chosen = rng.permutation(len(dataset.x_train))[:count]
    validation = max(1, round(count * config.validation_split))
    x, y = dataset.x_train[chosen], dataset.y_train[chosen]
    return (x[validation:], y[validation:]), (x[:validation], y[:validation])


def _batches(
    images: np.ndarray, labels: np.ndarray, config: TrainingConfig, *, training: bool
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
        return dataset.map(lambda x, y: (tf.cast(x, tf.float32), tf.one_hot(y, len(CLASS_NAMES)))).prefetch(2)

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
    return dataset.map(prepare).prefetch(4)


def model_logits(model: keras.Model, images: np.ndarray) -> np.ndarray:
    """The logits (n, 10) the model gives uint8 images (n, 28, 28), averaged with those of their mirror
    images, as served (mlmodel.litert): the network learnt both ways round, and the mean of two
    looks is right more often than either."""
    images = images.astype(np.float32)[..., np.newaxis]
    logits = model.predict(images, batch_size=1000, verbose=0)
    return (logits + model.predict(images[:, :, ::-1], batch_size=1000, verbose=0)) / 2
