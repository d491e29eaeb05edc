"""Training with corrected uploads, measured end to end in a throwaway keyspace.

    .venv/bin/python -m bench.corrections [--renders 2000] [--corrections 40] [--profile quick]

1. Renders Fashion-MNIST *training* images (never test images) as product photos
   (bench.product_photos.render) and records them as uploads in the keyspace `bench_corrections`
   on the test node (TEST_CASSANDRA_PORT, default 9142; started here if it is not running):
   classified by the active model and stored by the site's own code (classifier.recorder).
2. Corrects the first `--corrections` uploads the active model got wrong to their true label
   (store.correct, as the admin does) and keeps the next ones it got wrong, uncorrected, as
   "unseen mistakes" of the same kind.
3. Runs `train_model --include-corrections --profile <profile> --no-activate` into a temporary model
   directory holding a copy of the active version (the baseline), then the same run without the
   flag (unless --skip-plain-run), so what the corrections changed can be told from what the
   profile changed.
4. Prints the command's report, then the three models' accuracy on the test set, on the corrected
   uploads and on the unseen mistakes; drops the keyspace.

Never touches the development node (9042) or keyspace (`fashionsite`), nor the shipped models.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ["DJANGO_SETTINGS_MODULE"] = "fashionsite.test_settings"
os.environ["SQLITE_PATH"] = ":memory:"  # nothing here needs the SQLite database

import django  # noqa: E402
from django.conf import settings  # noqa: E402

django.setup()

from bench.product_photos import KINDS, render  # noqa: E402
from bench.throwaway import create_keyspace, drop_keyspace, train  # noqa: E402
from cassandra_node.configured import configured_node  # noqa: E402
from classifier import corrections, reads, store  # noqa: E402
from classifier.models import Prediction  # noqa: E402
from classifier.recorder import classify_and_record  # noqa: E402
from classifier.uploads import Upload  # noqa: E402
from mlmodel import artifacts  # noqa: E402
from mlmodel.classes import CLASS_NAMES  # noqa: E402
from mlmodel.data import load_fashion_mnist  # noqa: E402
from mlmodel.feedback import served_accuracy  # noqa: E402
from mlmodel.predictor import Predictor  # noqa: E402

KEYSPACE = "bench_corrections"
UPLOAD_BATCH = 50


def record_renders(dataset, count: int, seed: int) -> list[tuple]:
    """Upload `count` product-photo renders of training images; (prediction, true label) of each."""
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(dataset.x_train), size=count, replace=False)
    recorded = []
    for start in range(0, count, UPLOAD_BATCH):
        uploads, truths = [], []
        for n, index in enumerate(chosen[start : start + UPLOAD_BATCH], start):
            upload = Upload.of("render", render(dataset.x_train[index], KINDS[n % len(KINDS)], rng))
            uploads.append(
                dataclasses.replace(upload, filename=f"render-{index}.{upload.image_format.lower()}")
            )
            truths.append(int(dataset.y_train[index]))
        for result, truth in zip(classify_and_record(uploads), truths):
            if not result.repeat:
                recorded.append((result.prediction, truth))
    return recorded


def stored_inputs(predictions: list[Prediction]) -> np.ndarray:
    """The 28x28 model inputs stored with these predictions."""
    images = [reads.images_of(prediction.id) for prediction in predictions]
    return np.stack([corrections.model_input_pixels(image.model_input_png) for image in images])


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--renders", type=int, default=2000, help="training images uploaded as photos")
    parser.add_argument("--corrections", type=int, default=40, help="mistakes corrected by staff")
    parser.add_argument("--profile", default="quick", help="train_model profile (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--skip-plain-run",
        action="store_true",
        help="skip the run without corrections (with --profile default it repeats the shipped model's run)",
    )
    parser.add_argument("--keep-node", action="store_true", help="leave the node running if started here")
    args = parser.parse_args()

    node = configured_node()
    started_here = node.start()
    data_dir = settings.FASHION_MNIST_DIR
    dataset = load_fashion_mnist(data_dir)
    baseline = artifacts.active_version(settings.MODEL_DIR)
    work = Path(tempfile.mkdtemp(prefix="bench-corrections-"))
    try:
        create_keyspace(KEYSPACE)
        started = time.perf_counter()
        recorded = record_renders(dataset, args.renders, args.seed)
        mistakes = [(prediction, truth) for prediction, truth in recorded if prediction.label_index != truth]
        corrected, unseen = mistakes[: args.corrections], mistakes[args.corrections :]
        now = datetime.datetime.now(datetime.UTC)
        for prediction, truth in corrected:
            store.correct(prediction.id, CLASS_NAMES[truth], "bench", now)
        print(
            f"{len(recorded)} renders of training images uploaded in {time.perf_counter() - started:.0f} s; "
            f"the active model {baseline} got {len(mistakes)} wrong "
            f"({1 - len(mistakes) / len(recorded):.2%} right): {len(corrected)} corrected, "
            f"{len(unseen)} kept as unseen mistakes\n"
        )

        model_dir = work / "models"
        shutil.copytree(Path(settings.MODEL_DIR) / baseline, model_dir / baseline)
        artifacts.activate(baseline, model_dir)
        started = time.perf_counter()
        with_corrections = train(model_dir, data_dir, args.profile, "--include-corrections")
        print(f"(with corrections: {time.perf_counter() - started:.0f} s)\n")
        runs = [
            (f"active before ({baseline})", baseline),
            (f"{args.profile} + corrections ({with_corrections})", with_corrections),
        ]
        if not args.skip_plain_run:
            started = time.perf_counter()
            without = train(model_dir, data_dir, args.profile)
            print(f"(without: {time.perf_counter() - started:.0f} s)\n")
            runs.append((f"{args.profile}, no corrections ({without})", without))

        sets = {
            "test set": (dataset.x_test, dataset.y_test),
            "corrected uploads": (
                stored_inputs([p for p, _ in corrected]),
                np.array([t for _, t in corrected]),
            ),
            "unseen mistakes": (stored_inputs([p for p, _ in unseen]), np.array([t for _, t in unseen])),
        }
        print(f"{'model':<44}" + "".join(f"{name:>20}" for name in sets))
        for name, version in runs:
            predictor = Predictor.load(version, model_dir)
            figures = [served_accuracy(predictor, *labelled) for labelled in sets.values()]
            print(f"{name:<44}" + "".join(f"{figure:>20.2%}" for figure in figures))
        print(f"\nload average {os.getloadavg()[0]:.1f}")
    finally:
        drop_keyspace(KEYSPACE)
        shutil.rmtree(work, ignore_errors=True)
        if started_here and not args.keep_node:
            node.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
