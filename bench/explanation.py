"""What a result page's heat map costs: the occlusion map through the served LiteRT model.

    .venv/bin/python -m bench.explanation [--model-dir DIR] [--data-dir DIR] [--count 300]
                                          [--precision auto|float|int8]

For real test images with the active model version, served as the site serves it (--precision, as
PREDICTOR_PRECISION): the milliseconds of one map (65 inputs in one batch, mlmodel.explanation, on
the predictor's interpreter for large batches, which uses every core), and of the next single-image
prediction against a steady one (that runs on the one-core interpreter, which the map leaves as it was).
"""

import argparse
import os
import time
from pathlib import Path

import numpy as np

from mlmodel import artifacts
from mlmodel.data import dataset_dir, load_fashion_mnist
from mlmodel.explanation import occlusion
from mlmodel.predictor import get_predictor

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = dataset_dir("fashion-mnist", "FASHION_MNIST_DIR")  # None: Keras's loader


def milliseconds(call, *args) -> float:
    began = time.perf_counter()
    call(*args)
    return (time.perf_counter() - began) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model-dir", type=Path, default=artifacts.DEFAULT_MODEL_DIR)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--count", type=int, default=300, help="test images to explain")
    parser.add_argument("--precision", choices=artifacts.PRECISIONS, default="auto", help="the export served")
    args = parser.parse_args()

    images = load_fashion_mnist(args.data_dir).x_test[: args.count]
    predictor = get_predictor(args.model_dir, args.precision)
    labels = [result.label_index for result in predictor.classify(images)]
    for pixels, label in zip(images[:5], labels):  # warm-up
        occlusion(predictor, pixels, label)

    maps, after_map, steady = [], [], []
    for pixels, label in zip(images, labels):
        maps.append(milliseconds(occlusion, predictor, pixels, label))
        after_map.append(milliseconds(predictor.classify, pixels[np.newaxis]))
        steady.append(milliseconds(predictor.classify, pixels[np.newaxis]))

    def figures(values: list[float]) -> str:
        return f"p50 {np.percentile(values, 50):.2f} ms, p99 {np.percentile(values, 99):.2f} ms"

    print(
        f"model {predictor.version} ({predictor.precision} export), {len(images)} test images, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"occlusion map (65 inputs, one batch): {figures(maps)}")
    print(f"next single prediction: {figures(after_map)}")
    print(f"single prediction, steady: {figures(steady)}")


if __name__ == "__main__":
    main()
