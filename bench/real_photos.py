"""Accuracy on real phone photos of clothing, through the site's own upload path.

    .venv/bin/python -m bench.real_photos [--photos DIR] [--split held-out] [--adapt [--per-class N]]

Every photo of the measured split (default: the held-out three in ten, see
mlmodel.clothing_photos.split_of) is uploaded through the recorder (classifier.recorder: decoding,
segmentation, the 28x28 input, the served model, the rows in Cassandra) into the throwaway keyspace
`bench_real_photos` on the test node. It prints, for the active model: per folder, the share of
exact answers (one the folder's README counts as right) and of answers in the right group (upper
body, trousers, dress, footwear); the confusion table (folder x answer); the share of photos that
are none of the ten classes (hats, shorts, skirts) that the site flags as such, and of right answers
that it flags.

With --adapt it then does what staff would: uploads the photos of the other split (all of them, or
--per-class N of each folder that is one of the ten), corrects each to its true class through the
code the admin uses (classifier.store.correct; a folder with several right answers keeps the model's
answer when it is one of them, else takes the first), runs `train_model --include-corrections
--no-activate` into a temporary model directory, and measures the adapted model the same way.
Never touches the development node or keyspace, nor the shipped models.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ["DJANGO_SETTINGS_MODULE"] = "fashionsite.test_settings"
os.environ["SQLITE_PATH"] = ":memory:"  # nothing here needs the SQLite database

import django  # noqa: E402
from django.conf import settings  # noqa: E402

django.setup()

from bench.throwaway import create_keyspace, drop_keyspace, train  # noqa: E402
from cassandra_node.configured import configured_node  # noqa: E402
from classifier import store  # noqa: E402
from classifier.models import Prediction  # noqa: E402
from classifier.recorder import classify_and_record  # noqa: E402
from classifier.uploads import Upload  # noqa: E402
from mlmodel import artifacts  # noqa: E402
from mlmodel.classes import CLASS_NAMES  # noqa: E402
from mlmodel.clothing_photos import SPLITS, Photo, corrected_set, list_photos  # noqa: E402
from mlmodel.data import dataset_dir  # noqa: E402

KEYSPACE = "bench_real_photos"
DEFAULT_PHOTOS = dataset_dir("clothing-photos", "CLOTHING_PHOTOS_DIR")
UPLOAD_BATCH = 20


def upload(photos: list[Photo]) -> list[Prediction]:
    """Each photo recorded as an upload by the site's own code, in order."""
    predictions = []
    for start in range(0, len(photos), UPLOAD_BATCH):
        uploads = []
        for photo in photos[start : start + UPLOAD_BATCH]:
            uploads.append(Upload.of(photo.path.name, photo.path.read_bytes()))
        predictions += [recorded.prediction for recorded in classify_and_record(uploads)]
    return predictions


def report(title: str, photos: list[Photo], predictions: list[Prediction]) -> dict[str, float]:
    """Print the figures of one model on one set of photos; return the headline ones."""
    by_folder: dict[str, list[tuple[Photo, Prediction]]] = defaultdict(list)
    for photo, prediction in zip(photos, predictions):
        by_folder[photo.folder].append((photo, prediction))
    print(f"\n== {title}: {len(photos)} photos ==")
    print(f"{'folder':<12}{'photos':>8}{'exact':>9}{'group':>9}{'flagged':>9}   answers")
    for folder, pairs in sorted(by_folder.items()):
        answers = Counter(prediction.label for _, prediction in pairs)
        common = ", ".join(f"{label} {count}" for label, count in answers.most_common(4))
        flagged = _share(pairs, lambda photo, prediction: prediction.none_of_the_ten)
        if pairs[0][0].in_classes:
            exact = _share(pairs, lambda photo, prediction: photo.is_exact(prediction.label))
            group = _share(pairs, lambda photo, prediction: photo.is_right_group(prediction.label))
            print(f"{folder:<12}{len(pairs):>8}{exact:>9.1%}{group:>9.1%}{flagged:>9.1%}   {common}")
        else:
            print(f"{folder:<12}{len(pairs):>8}{'-':>9}{'-':>9}{flagged:>9.1%}   {common}")

    in_classes = [(photo, prediction) for photo, prediction in zip(photos, predictions) if photo.in_classes]
    others = [(photo, prediction) for photo, prediction in zip(photos, predictions) if not photo.in_classes]
    right = [(photo, prediction) for photo, prediction in in_classes if photo.is_exact(prediction.label)]
    figures = {
        "exact": _share(in_classes, lambda photo, prediction: photo.is_exact(prediction.label)),
        "group": _share(in_classes, lambda photo, prediction: photo.is_right_group(prediction.label)),
        "footwear in footwear": _share(
            [pair for pair in in_classes if pair[0].folder == "shoes"],
            lambda photo, prediction: photo.is_right_group(prediction.label),
        ),
        "none of the ten flagged": _share(others, lambda photo, prediction: prediction.none_of_the_ten),
        "right answers flagged": _share(right, lambda photo, prediction: prediction.none_of_the_ten),
        # Any reason to doubt the answer, low confidence too: what the API's `uncertain` says.
        "none of the ten uncertain": _share(others, lambda photo, prediction: prediction.uncertain),
        "right answers uncertain": _share(right, lambda photo, prediction: prediction.uncertain),
    }
    print("  ".join(f"{name}: {value:.1%}" for name, value in figures.items()))
    return figures


def _share(pairs, test) -> float:
    return sum(1 for pair in pairs if test(*pair)) / len(pairs) if pairs else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--photos",
        type=Path,
        default=DEFAULT_PHOTOS,
        required=DEFAULT_PHOTOS is None,
        help="one folder per kind",
    )
    parser.add_argument("--split", choices=(*SPLITS, "all"), default="held-out", help="what is measured")
    parser.add_argument("--adapt", action="store_true", help="correct the other split, train, measure again")
    parser.add_argument("--per-class", type=int, help="with --adapt: correct only N photos of each folder")
    parser.add_argument("--profile", default="adapt", help="train_model profile of --adapt: %(default)s")
    parser.add_argument("--model-dir", type=Path, default=Path(settings.MODEL_DIR))
    args = parser.parse_args()
    if args.adapt and args.split == "all":
        parser.error("--adapt corrects the photos of one split and measures on the other")

    measured = list_photos(args.photos, None if args.split == "all" else args.split)
    node = configured_node()
    started_here = node.start()
    work = Path(tempfile.mkdtemp(prefix="bench-real-photos-"))
    baseline = artifacts.active_version(args.model_dir)
    settings.MODEL_DIR = args.model_dir
    try:
        create_keyspace(KEYSPACE)
        started = time.perf_counter()
        predictions = upload(measured)
        seconds = time.perf_counter() - started
        print(
            f"{len(measured)} photos uploaded in {seconds:.0f} s "
            f"({1000 * seconds / len(measured):.0f} ms each)"
        )
        report(f"active model {baseline}, split {args.split}", measured, predictions)

        if args.adapt:
            other = next(split for split in SPLITS if split != args.split)
            to_correct = corrected_set(list_photos(args.photos, other), args.per_class)
            now = datetime.datetime.now(datetime.UTC)
            for photo, prediction in zip(to_correct, upload(to_correct)):
                store.correct(prediction.id, photo.true_label(prediction.label), "bench", now)
            print(f"\n{len(to_correct)} photos of the {other} split uploaded and corrected")
            model_dir = work / "models"
            shutil.copytree(args.model_dir / baseline, model_dir / baseline)
            artifacts.activate(baseline, model_dir)
            started = time.perf_counter()
            # The photos' tune split fits the adapted model's "none of the ten" rule, as train_model
            # does on the development machine (the test settings point at the few shipped photos).
            photos = ("--photos-dir", str(args.photos))
            adapted = train(
                model_dir, settings.FASHION_MNIST_DIR, args.profile, "--include-corrections", *photos
            )
            print(f"(train_model --include-corrections: {time.perf_counter() - started:.0f} s)")
            artifacts.activate(adapted, model_dir)
            settings.MODEL_DIR = model_dir
            metadata = artifacts.read_metadata(adapted, model_dir)
            report(f"adapted model {adapted}", measured, upload(measured))
            print(f"Fashion-MNIST test accuracy of the adapted model: {metadata['test_accuracy']:.2%}")
        print(f"\nload average {os.getloadavg()[0]:.1f}; labels: {', '.join(CLASS_NAMES)}")
    finally:
        drop_keyspace(KEYSPACE)
        shutil.rmtree(work, ignore_errors=True)
        if started_here:
            node.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
