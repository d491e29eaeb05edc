"""Accuracy on product-photo renders of the test set against the clean test images.

    .venv/bin/python -m bench.product_photos [--count N] [--model-dir DIR] [--data-dir DIR]

Each test image becomes a photo as users upload them (mlmodel/product_photos.py: a dark
garment on a white background, enlarged, off centre, in one of several file kinds taking
turns). The upload path then opens and preprocesses it (mlmodel.preprocessing) and the
served predictor classifies it.
The goal: accuracy on the renders within 2 points of accuracy on the same clean images.
"""

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from mlmodel import artifacts
from mlmodel.data import dataset_dir, load_fashion_mnist
from mlmodel.predictor import get_predictor
from mlmodel.product_photos import KINDS, kind_of, model_input

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = dataset_dir("fashion-mnist", "FASHION_MNIST_DIR")  # None: Keras's loader
GOAL_POINTS = 2.0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=10000, help="test images to render (default: all)")
    parser.add_argument("--model-dir", type=Path, default=artifacts.DEFAULT_MODEL_DIR)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    args = parser.parse_args()

    dataset = load_fashion_mnist(args.data_dir)
    images, labels = dataset.x_test[: args.count], dataset.y_test[: args.count]
    started = time.perf_counter()
    with ProcessPoolExecutor() as pool:
        inputs = np.stack(list(pool.map(model_input, range(len(images)), images, chunksize=50)))
    rendered_s = time.perf_counter() - started
    predictor = get_predictor(args.model_dir)

    def accuracy(batch: np.ndarray) -> np.ndarray:
        return np.array([c.label_index for c in predictor.classify(batch)]) == labels

    clean, photos = accuracy(images), accuracy(inputs)
    gap = 100 * (clean.mean() - photos.mean())
    kinds = np.array([kind_of(index) for index in range(len(images))])
    print(
        f"model version {predictor.version}; {len(images)} test images, "
        f"rendered and preprocessed in {rendered_s:.0f} s"
    )
    print(f"  clean test images   {clean.mean():.2%}")
    print(f"  product photos      {photos.mean():.2%}   gap {gap:+.2f} points (goal <= {GOAL_POINTS})")
    for kind in KINDS:
        members = kinds == kind
        print(f"    {kind:<20}{photos[members].mean():.2%}  ({members.sum()} photos)")
    print("goal met" if gap <= GOAL_POINTS else "goal NOT met")


if __name__ == "__main__":
    main()
