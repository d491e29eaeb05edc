"""Seconds per training step of the default run in each precision, batch normalisation and XLA, in one run.

    .venv/bin/python -m bench.training_step [--data-dir DIR] [--steps 40]

Each setting compiles the network as `train_model` does (mlmodel.training.compiled_model) and fits
it on the default run's own batches (photo trips and outliers made as it goes), timing steps after a
few warm-up ones. The baseline is how models were trained until 2026-12-03 on CPUs without AMX:
float32, Keras's own batch normalisation, no XLA. `train_model` trains with the fused one.
Printed: seconds per step (p50 of the timed steps), images per second, the ratio to the baseline,
and how long the default run's steps would take in all at that pace.
"""

import argparse
import time

import keras
import numpy as np

from mlmodel import cpu
from mlmodel.batches import batches
from mlmodel.data import dataset_dir, load_fashion_mnist
from mlmodel.training import PROFILES, compiled_model, run_steps, training_split

DEFAULT_DATA_DIR = dataset_dir("fashion-mnist", "FASHION_MNIST_DIR")  # None: Keras's loader
WARM_UP_STEPS = 5
GOAL_MINUTES = 15


class StepTimes(keras.callbacks.Callback):
    """When each training step ended."""

    def __init__(self) -> None:
        super().__init__()
        self.ends: list[float] = []

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.ends.append(time.perf_counter())


def seconds_per_step(
    images: np.ndarray, labels: np.ndarray, precision: str, xla: bool, fused: bool, steps: int
) -> float:
    config = PROFILES["default"]
    model = compiled_model(config, precision, WARM_UP_STEPS + steps, xla=xla, fused_batch_norm=fused)
    times = StepTimes()
    model.fit(
        batches(images, labels, config, training=True).take(WARM_UP_STEPS + steps),
        epochs=1,
        steps_per_epoch=WARM_UP_STEPS + steps,
        shuffle=False,  # the batches shuffle themselves
        verbose=0,
        callbacks=[times],
    )
    return float(np.median(np.diff(times.ends[WARM_UP_STEPS - 1 :])))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    parser.add_argument("--steps", type=int, default=40, help="timed steps per setting (default: 40)")
    args = parser.parse_args()

    config = PROFILES["default"]
    (images, labels), _ = training_split(config, load_fashion_mnist(args.data_dir))
    steps_of_run = run_steps(config, len(images))
    images_per_step = len(next(iter(batches(images, labels, config, training=True)))[0])
    # (precision, XLA, fused batch normalisation); XLA compiles Keras's own (its fusion is XLA's).
    settings = [("float32", False, False), ("float32", False, True), ("float32", True, False)]
    if cpu.has_bfloat16_instructions():  # measured wherever it can run, though auto needs AMX for it
        settings += [("bfloat16", False, False), ("bfloat16", False, True)]
    else:
        print("this CPU has no bfloat16 instructions: float32 only")

    print(
        f"{'precision':<11}{'XLA':<6}{'batch norm':<12}{'s/step':>8}{'images/s':>10}"
        f"{'vs baseline':>13}{'default run':>13}"
    )
    baseline = None
    for precision, xla, fused in settings:
        step = seconds_per_step(images, labels, precision, xla, fused, args.steps)
        baseline = baseline or step
        print(
            f"{precision:<11}{'on' if xla else 'off':<6}{'fused' if fused else 'Keras':<12}{step:>8.3f}"
            f"{images_per_step / step:>10.0f}{baseline / step:>12.2f}x{steps_of_run * step / 60:>10.1f} min"
        )
    print(
        f"(the default run: {steps_of_run:,} steps of {images_per_step} images; "
        f"its goal: {GOAL_MINUTES} min of training, the fits after it included)"
    )


if __name__ == "__main__":
    main()
