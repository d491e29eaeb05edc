"""Latency and throughput of the served predictor against Keras's model.predict, in one run.

    .venv/bin/python -m bench.predictor [--model-dir DIR] [--data-dir DIR] [--int8 [--int8-out FILE]]

Both classify the same real test images with the active model version: one image
per call for the per-image p50/p99, and batches of 64 for images per second. The
ratios compare figures measured here, in this run, so a busy machine slows both.
--int8 also compares the version's int8 export (model-int8.tflite: int8 weights and activations,
mlmodel.litert.export_int8, post-training quantisation calibrated on training images; exported now
for a version without one, or with --int8-out FILE to keep a new one) with the float export on the
whole test set: accuracy, expected calibration error, the same latencies; and says which of the two
PREDICTOR_PRECISION=auto serves on this CPU.
"""

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np

from mlmodel import artifacts
from mlmodel.data import dataset_dir, load_fashion_mnist
from mlmodel.evaluation import softmax
from mlmodel.network import model_logits
from mlmodel.predictor import Predictor, get_predictor, served_precision

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = dataset_dir("fashion-mnist", "FASHION_MNIST_DIR")  # None: Keras's loader
P50_GOAL_MS = 0.3
SPEED_UP_GOAL = 100
BATCH = 64
INT8_SINGLE_GOAL = 200
INT8_BATCH_GOAL = 10


def latencies_ms(call: Callable[[np.ndarray], object], images: np.ndarray, batch: int) -> np.ndarray:
    """Milliseconds per image of each call on consecutive batches, after a few warm-up calls."""
    for start in range(0, 5 * batch, batch):
        call(images[start : start + batch])
    timings = []
    for start in range(0, len(images) - batch + 1, batch):
        chunk = images[start : start + batch]
        began = time.perf_counter()
        call(chunk)
        timings.append((time.perf_counter() - began) * 1000 / batch)
    return np.array(timings)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model-dir", type=Path, default=artifacts.DEFAULT_MODEL_DIR)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--keras-calls", type=int, default=300, help="single-image model.predict calls")
    parser.add_argument("--served-calls", type=int, default=5000, help="single-image served calls")
    parser.add_argument("--int8", action="store_true", help="also export and measure an int8 model")
    parser.add_argument("--int8-out", type=Path, help="where to keep that export (default: a temp dir)")
    parser.add_argument("--calibration", type=int, default=500, help="training images calibrating int8")
    args = parser.parse_args()

    images = load_fashion_mnist(args.data_dir).x_test
    predictor = get_predictor(args.model_dir, "float")  # Keras's answers exactly: compared below
    model_file = artifacts.model_path(predictor.version, args.model_dir)

    model = keras.saving.load_model(model_file, compile=False)

    def keras_predict(batch: np.ndarray) -> np.ndarray:
        # The seed's way: float32 (n, 28, 28, 1) through model.predict, here giving logits.
        return model.predict(batch.astype(np.float32)[..., np.newaxis], verbose=0)

    temperature = artifacts.read_metadata(predictor.version, args.model_dir)["temperature"]
    # What the served file computes, in Keras: the image's and its mirror's features averaged.
    reference = softmax(model_logits(model, images[:1000]) / temperature)
    served = np.array([c.probabilities for c in predictor.classify(images[:1000])])
    difference = float(np.abs(served - reference).max())

    keras_single = latencies_ms(keras_predict, images[: args.keras_calls + 5], 1)
    served_single = latencies_ms(predictor.classify, images[: args.served_calls + 5], 1)
    keras_batch = latencies_ms(keras_predict, images[: 40 * BATCH], BATCH)
    served_batch = latencies_ms(predictor.classify, images, BATCH)

    speed_up = np.median(keras_single) / np.median(served_single)
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"model version {predictor.version}; {os.cpu_count()} cores, load average {load}")
    print(
        f"served vs Keras's softmax(logits of image and mirror / {temperature:.3f}) on 1000 test images: "
        f"max |difference| {difference:.1e} (goal <= 1e-5)"
    )
    print(f"{'one image per call':<34}{'p50 ms':>10}{'p99 ms':>10}")
    print(
        f"{'  Keras model.predict':<34}{np.median(keras_single):>10.3f}"
        f"{np.percentile(keras_single, 99):>10.3f}"
    )
    print(
        f"{'  served (LiteRT)':<34}{np.median(served_single):>10.3f}{np.percentile(served_single, 99):>10.3f}"
    )
    print(f"  p50 ratio {speed_up:.0f}x (goal >= {SPEED_UP_GOAL}x); served p50 goal <= {P50_GOAL_MS} ms")
    print(
        f"batches of {BATCH}, images/s: Keras model.predict {1000 / np.median(keras_batch):,.0f}, "
        f"served {1000 / np.median(served_batch):,.0f}"
    )
    met = np.median(served_single) <= P50_GOAL_MS and speed_up >= SPEED_UP_GOAL and difference <= 1e-5
    print("goals met" if met else "goals NOT met")
    if args.int8:
        compare_int8(args, model, temperature, predictor, np.median(keras_single), np.median(keras_batch))


def compare_int8(args, model, temperature: float, served: Predictor, keras_single: float, keras_batch: float):
    """The int8 export (litert.export_int8, calibrated on training images) against the float one."""
    from mlmodel import litert
    from mlmodel.evaluation import expected_calibration_error

    data = load_fashion_mnist(args.data_dir)
    shipped = artifacts.litert_path(served.version, args.model_dir, "int8")
    if shipped.is_file() and args.int8_out is None:
        path, made = shipped, "the version's own, published by train_model"
    else:
        rng = np.random.default_rng(0)
        calibration = data.x_train[rng.choice(len(data.x_train), args.calibration, replace=False)]
        path = args.int8_out or Path(tempfile.mkdtemp()) / "model-int8.tflite"
        litert.export_int8(model, temperature, path, calibration)
        made = f"exported now, calibrated on {len(calibration)} training images"
    int8 = Predictor(path, served.version, served.none_of_the_ten_below)
    auto = served_precision("auto", served.version, args.model_dir)
    print(
        f"\nint8 export ({Path(path).stat().st_size / 1e6:.2f} MB, {made}); "
        f"PREDICTOR_PRECISION=auto serves {auto} here"
    )
    print(
        f"{'':<10}{'accuracy':>10}{'ECE':>8}{'p50 ms (1)':>12}{'x Keras':>9}{'img/s (64)':>12}{'x Keras':>9}"
    )
    probabilities = {}
    for name, predictor in (("float", served), ("int8", int8)):
        found = np.array([c.probabilities for s in range(0, len(data.x_test), 500)
                          for c in predictor.classify(data.x_test[s : s + 500])])  # fmt: skip
        probabilities[name] = found
        single = np.median(latencies_ms(predictor.classify, data.x_test[: args.served_calls + 5], 1))
        batch = np.median(latencies_ms(predictor.classify, data.x_test, BATCH))
        accuracy = 100 * float(np.mean(found.argmax(axis=1) == data.y_test))
        ece = expected_calibration_error(found, data.y_test)
        print(f"{name:<10}{accuracy:>9.2f}%{ece:>8.4f}{single:>12.3f}{keras_single / single:>8.0f}x"
              f"{1000 / batch:>12,.0f}{keras_batch / batch:>8.1f}x")  # fmt: skip
    difference = float(np.abs(probabilities["int8"] - probabilities["float"]).max())
    print(f"largest |int8 - float| probability {difference:.3f}; goals: accuracy within 0.2 points, "
          f">= {INT8_SINGLE_GOAL}x single, >= {INT8_BATCH_GOAL}x in batches of {BATCH}")  # fmt: skip


if __name__ == "__main__":
    main()
