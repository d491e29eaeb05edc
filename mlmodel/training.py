"""Training the network on Fashion-MNIST, calibrating it and measuring it on the test set."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, fields
from pathlib import Path

import keras
import numpy as np

from mlmodel import artifacts, augmentation, cpu, novelty
from mlmodel.batches import batches
from mlmodel.data import Dataset, LabelledImages
from mlmodel.evaluation import Evaluation, evaluate, fit_temperature
from mlmodel.network import build_model, logits_of, model_features, model_logits

# Of the steps of a run, the share spent warming the learning rate up to its peak.
_WARMUP_SHARE = 0.1
# Extra examples (corrected uploads) are oversampled to this share of the training split, each at
# most EXTRA_MAX_REPEATS times: see extra_repeats().
EXTRA_SHARE = 0.2
EXTRA_MAX_REPEATS = 100
# Fashion-MNIST training images the photo detector learns as examples of the ten: with fewer it
# flagged more of the test set (2% with 3,000, 0.9% with 12,000, against 0.1% by the energy alone).
_KNOWN_IMAGES = 12_000
# Training images whose activations set the scales of the int8 export (mlmodel.litert.export_int8):
# with 500 it was as accurate as the float export (92.85% against 92.79%) and as well calibrated.
_INT8_CALIBRATION_IMAGES = 500


@dataclass(frozen=True)
class TrainingConfig:
    """Everything that decides a training run; the defaults made the shipped model."""

    epochs: int = 14
    batch_size: int = 256
    width: float = 1.0  # the network's filters, times the shipped one's (network.build_model)
    # Of the dense features, the share dropped in each training step. A tenth rather than the 0.3 of
    # versions before 2026-12-03: the photo trips regularise already, and 0.1 made 93.17% on
    # Fashion-MNIST against 92.81% with phone photos as well answered (README, "Model").
    dropout: float = 0.1
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
    # 93.20% on Fashion-MNIST with dropout 0.3 (the default then: 92.79%), for 1.7-1.9 times its steps' time.
    "wide": TrainingConfig(width=1.5),
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
    none_of_the_ten: novelty.NoveltyRule  # when it says "probably none of the ten"
    int8_calibration: np.ndarray  # Fashion-MNIST training images that set the int8 export's scales
    extra_examples: int = 0  # extra labelled images added to the training split
    extra_repeats: int = 0  # copies of each in it
    weights_from: str | None = None  # the version trained, when only its rule was fitted again

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
    temperature and test figures stay pure Fashion-MNIST, comparable with runs without them, and the
    calibration photos among them do not set the "none of the ten" rule.
    """
    started = time.perf_counter()
    keras.utils.set_random_seed(config.seed)
    (x_train, y_train), (x_val, y_val) = training_split(config, dataset)
    int8_calibration = _int8_calibration(x_train, config.seed)
    repeats = extra_repeats(len(extra), len(x_train)) if extra is not None else 0
    if calibration is not None and extra is not None:
        calibration = calibration.without(extra.images)
    if repeats:
        x_train = np.concatenate([x_train, *[extra.images] * repeats])
        y_train = np.concatenate([y_train, *[extra.labels] * repeats])
    precision = resolve_precision(config.precision)

    model = compiled_model(config, precision, run_steps(config, len(x_train)))
    if initial_weights is not None:
        model.set_weights(_weights_of(initial_weights, model))
    history = model.fit(
        batches(x_train, y_train, config, training=True),
        validation_data=batches(x_val, y_val, config, training=False),
        epochs=config.epochs,
        shuffle=False,  # the dataset shuffles itself
        verbose=verbose,
    )

    # Served and measured in float32: the LiteRT export has no bfloat16, and the
    # weights themselves are float32 whatever the training precision.
    served = build_model(width=config.width)
    served.set_weights(model.get_weights())
    temperature = fit_temperature(model_logits(served, x_val), y_val)
    test = evaluate(model_logits(served, dataset.x_test), dataset.y_test, temperature)
    rule = _novelty_rule(served, temperature, calibration, (x_train, x_val, y_val), config)
    return TrainingResult(
        model=served,
        config=config,
        precision=precision,
        test=test,
        history={name: [float(value) for value in values] for name, values in history.history.items()},
        wall_time_s=time.perf_counter() - started,
        none_of_the_ten=rule,
        int8_calibration=int8_calibration,
        extra_examples=len(extra) if repeats else 0,
        extra_repeats=repeats,
    )


def refit_none_of_the_ten(
    version: str, model_dir: Path | str, dataset: Dataset, calibration: novelty.CalibrationPhotos
) -> TrainingResult:
    """A published version again, its weights and temperature kept, with only its "none of the ten"
    rule fitted anew on these photos: for a model trained before they (or the photo detector) were
    there, without training it again."""
    metadata = artifacts.read_metadata(version, model_dir)
    report = json.loads((Path(model_dir) / version / artifacts.REPORT_FILE).read_text())
    # A version published before a field was added was trained with that field's default, but for
    # the dropout: 0.3 until it became a field.
    recorded = {"dropout": 0.3, **metadata}
    config = TrainingConfig(
        **{field.name: recorded[field.name] for field in fields(TrainingConfig) if field.name in recorded}
    )
    model = keras.models.load_model(artifacts.model_path(version, model_dir), compile=False)
    (x_train, _), (x_val, y_val) = training_split(config, dataset)
    temperature = metadata["temperature"]
    return TrainingResult(
        model=model,
        config=config,
        precision=metadata["precision"],
        test=evaluate(model_logits(model, dataset.x_test), dataset.y_test, temperature),
        history=report["history"],
        wall_time_s=metadata["wall_time_s"],
        none_of_the_ten=_novelty_rule(model, temperature, calibration, (x_train, x_val, y_val), config),
        int8_calibration=_int8_calibration(x_train, config.seed),
        extra_examples=metadata["corrected_images_trained_on"],
        weights_from=metadata.get("weights_from") or version,
    )


def _novelty_rule(
    model: keras.Model,
    temperature: float,
    calibration: novelty.CalibrationPhotos | None,
    training_images: tuple[np.ndarray, np.ndarray, np.ndarray],
    config: TrainingConfig,
) -> novelty.NoveltyRule:
    """When the model says "none of the ten" (mlmodel.novelty): set on real photos when given (with
    known Fashion-MNIST training images for the photo detector), else the energy alone on validation
    images made to look like phone photos. training_images: x_train, x_val, y_val."""
    x_train, x_val, y_val = training_images
    rng = np.random.default_rng(config.seed)
    if calibration is not None:
        features = model_features(model, calibration.images)
        known = rng.permutation(len(x_train))[:_KNOWN_IMAGES]
        rule = novelty.rule_from_photos(
            calibration,
            features,
            logits_of(model, features),
            temperature,
            model_features(model, x_train[known]),
        )
        if rule is not None:
            return rule
    logits = model_logits(model, augmentation.photo_trip(x_val, y_val, rng))
    right = logits.argmax(axis=1) == y_val
    return novelty.NoveltyRule(
        novelty.threshold(novelty.energy(logits[right], temperature)),
        f"{int(right.sum())} right answers on validation images made to look like phone photos",
    )


def _int8_calibration(x_train: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return x_train[rng.choice(len(x_train), min(_INT8_CALIBRATION_IMAGES, len(x_train)), replace=False)]


def extra_repeats(extra_count: int, train_count: int) -> int:
    """How many copies of each extra example join `train_count` Fashion-MNIST training images.

    Corrected uploads are few (dozens or hundreds against up to 54,000 images) but are the very
    inputs the site gets wrong, from the domain it is used in: the copies make up EXTRA_SHARE (20%)
    of the training split, so that every batch carries some. A fifth taught held-out phone photos
    more than a fiftieth or two fifths did, at the same Fashion-MNIST accuracy (docs/experiments.md,
    "Learning from corrected photos": bench.real_photos --adapt --per-class 30). Copies rather than
    a larger loss weight because each copy is augmented afresh (shifted, flipped, taken on a photo
    trip), so the network sees variants instead of one image with a larger gradient. At most
    EXTRA_MAX_REPEATS (100) copies each: a handful of corrections must not make up a fifth of what
    the model learns, as staff labels can be wrong. Every example goes in at least once.
    """
    if extra_count == 0:
        return 0
    wanted = EXTRA_SHARE / (1 - EXTRA_SHARE) * train_count / extra_count
    return max(1, min(EXTRA_MAX_REPEATS, round(wanted)))


def _weights_of(saved: Path, model: keras.Model) -> list[np.ndarray]:
    """The weights of a saved model, which must have this network's architecture."""
    weights = keras.models.load_model(saved, compile=False).get_weights()
    expected = [weight.shape for weight in model.get_weights()]
    if [weight.shape for weight in weights] != expected:
        raise ValueError(f"{saved} is another network than this one: it cannot be fine-tuned, train afresh")
    return weights


def run_steps(config: TrainingConfig, train_count: int) -> int:
    """How many steps a run of this config takes on train_count training images."""
    return math.ceil(train_count / config.batch_size) * config.epochs


def compiled_model(
    config: TrainingConfig, precision: str, steps: int, *, xla: bool = False, fused_batch_norm: bool = True
) -> keras.Model:
    """A new network compiled to train for `steps` steps: Adam on a warm-up and cosine schedule,
    label-smoothed cross-entropy, batch normalisation by the fused kernel unless asked otherwise.
    Not compiled by XLA unless asked (bench.training_step compares both):
    XLA's CPU convolutions leave oneDNN's kernels, and their bfloat16, unused, and a step of the
    default run took 1.4 (float32) to 1.7 (bfloat16) times as long with it on this project's machine."""
    model = _build_model(precision, config, fused_batch_norm)
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
        jit_compile=xla,
    )
    return model


def resolve_precision(precision: str) -> str:
    """The precision to train in: "auto" becomes "bfloat16" where the CPU has AMX's bfloat16 tiles
    (cpu.has_bfloat16_matrix_units), float32 elsewhere."""
    if precision not in ("auto", "bfloat16", "float32"):
        raise ValueError(f"precision must be auto, bfloat16 or float32, not {precision!r}")
    if precision != "auto":
        return precision
    return "bfloat16" if cpu.has_bfloat16_matrix_units() else "float32"


def _build_model(precision: str, config: TrainingConfig, fused_batch_norm: bool) -> keras.Model:
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16" if precision == "bfloat16" else "float32")
    try:
        return build_model(config.dropout, config.width, fused_batch_norm=fused_batch_norm)
    finally:
        keras.config.set_dtype_policy(previous)


def training_split(config: TrainingConfig, dataset: Dataset) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """The training images (a random subset if asked for), shuffled and split into train and validation."""
    rng = np.random.default_rng(config.seed)
    count = len(dataset.x_train) if config.subset is None else min(config.subset, len(dataset.x_train))
    chosen = rng.permutation(len(dataset.x_train))[:count]
    validation = max(1, round(count * config.validation_split))
    x, y = dataset.x_train[chosen], dataset.y_train[chosen]
    return (x[validation:], y[validation:]), (x[:validation], y[:validation])
