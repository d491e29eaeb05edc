"""How far the 28x28 grey input can go on real photos: the active model fine-tuned on photos alone.

    .venv/bin/python -m bench.photos_alone [--photos DIR] [--per-class N] [--fashion-share 0.0]
                                           [--epochs 12] [--learning-rate 1e-3]

An upper bound for the adapt goals of `bench.real_photos --adapt`, which must keep the model's
Fashion-MNIST accuracy: here nothing else is asked of it. Every photo becomes its model input (and
second look) through the site's preprocessing (mlmodel.preprocessing; not through the recorder and
Cassandra, since only the inputs matter). A copy of the active model is fine-tuned on the tune
split's photos of the ten classes (all, or the first N of each folder), each labelled as staff would
correct it (the model's answer where it is right, else the folder's first right answer), both looks
as examples, mirrored and shifted by up to two pixels at random; `--fashion-share` of each batch are
Fashion-MNIST training images. Printed: exact and group accuracy on the held-out photos of the ten
(both looks' mean logits, as served) and Fashion-MNIST test accuracy, for the active model and after
each third of the epochs.
"""

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np

from mlmodel import artifacts
from mlmodel.classes import CLASS_NAMES
from mlmodel.clothing_photos import Photo, corrected_set, list_photos
from mlmodel.data import Dataset, dataset_dir, load_fashion_mnist
from mlmodel.network import model_logits
from mlmodel.preprocessing import open_image, to_model_input

REPO = Path(__file__).resolve().parents[1]
DEFAULT_PHOTOS = dataset_dir("clothing-photos", "CLOTHING_PHOTOS_DIR") or REPO / "tests" / "photos"
BATCH = 128
MAX_SHIFT = 2


class PhotoInputs:
    """The model inputs of some photos: first looks (n, 28, 28), and second looks where taken."""

    def __init__(self, photos: list[Photo]) -> None:
        self.photos = photos
        inputs = [to_model_input(open_image(photo.path.read_bytes())) for photo in photos]
        self.first = np.stack([model_input.pixels for model_input in inputs])
        self.second = {
            index: model_input.second_look
            for index, model_input in enumerate(inputs)
            if model_input.second_look is not None
        }

    def answers(self, model: keras.Model) -> list[str]:
        """The class names the model answers, as served: both looks' mean logits where there are two."""
        logits = model_logits(model, self.first)
        if self.second:
            looked = list(self.second)
            logits[looked] = (logits[looked] + model_logits(model, np.stack(list(self.second.values())))) / 2
        return [CLASS_NAMES[index] for index in logits.argmax(axis=1)]

    def examples(self, labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Every look as an example of its photo's label: images (m, 28, 28), class indices (m,)."""
        indices = np.array([CLASS_NAMES.index(label) for label in labels])
        looked = list(self.second)
        images = np.concatenate([self.first, np.stack(list(self.second.values()))]) if looked else self.first
        return images, np.concatenate([indices, indices[looked]])


def moved(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each image mirrored half of the time and shifted by up to MAX_SHIFT pixels each way."""
    images = np.where(rng.random(len(images))[:, None, None] < 0.5, images[:, :, ::-1], images)
    shifts = rng.integers(-MAX_SHIFT, MAX_SHIFT + 1, (len(images), 2))
    return np.stack([np.roll(image, tuple(shift), axis=(0, 1)) for image, shift in zip(images, shifts)])


def measure(model: keras.Model, held_out: PhotoInputs, dataset: Dataset, name: str) -> None:
    answers = held_out.answers(model)
    exact = np.mean([photo.is_exact(answer) for photo, answer in zip(held_out.photos, answers)])
    group = np.mean([photo.is_right_group(answer) for photo, answer in zip(held_out.photos, answers)])
    fashion = np.mean(model_logits(model, dataset.x_test).argmax(axis=1) == dataset.y_test)
    print(
        f"{name:<28} held out exact {exact:.1%}, group {group:.1%}; Fashion-MNIST {fashion:.2%}", flush=True
    )


def fine_tune(
    model: keras.Model,
    images: np.ndarray,
    labels: np.ndarray,
    dataset: Dataset,
    args: argparse.Namespace,
    report: Callable[[int], None],
) -> None:
    """Train on batches of photos (and `fashion_share` Fashion-MNIST images), cosine-decayed rate."""
    rng = np.random.default_rng(args.seed)
    fashion_count = round(BATCH * args.fashion_share)
    photo_count = BATCH - fashion_count
    steps = -(-len(images) // photo_count)
    schedule = keras.optimizers.schedules.CosineDecay(args.learning_rate, steps * args.epochs)
    loss = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss=loss)
    for epoch in range(1, args.epochs + 1):
        order = rng.permutation(len(images))
        for step in range(steps):
            # np.resize fills a short last batch by repeating its photos.
            chosen = np.resize(order[step * photo_count :], photo_count)
            fashion = rng.integers(0, len(dataset.x_train), fashion_count)
            x = moved(np.concatenate([images[chosen], dataset.x_train[fashion]]), rng)
            y = np.concatenate([labels[chosen], dataset.y_train[fashion]])
            model.train_on_batch(x.astype(np.float32)[..., np.newaxis], np.eye(len(CLASS_NAMES))[y])
        if epoch % max(1, args.epochs // 3) == 0 or epoch == args.epochs:
            report(epoch)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    parser.add_argument("--data-dir", type=Path, default=dataset_dir("fashion-mnist", "FASHION_MNIST_DIR"))
    parser.add_argument("--model-dir", type=Path, default=artifacts.DEFAULT_MODEL_DIR)
    parser.add_argument("--per-class", type=int, help="fine-tune on N photos of each folder (default: all)")
    parser.add_argument(
        "--fashion-share", type=float, default=0.0, help="of each batch, Fashion-MNIST images"
    )
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not 0 <= args.fashion_share < 1:
        parser.error("--fashion-share must be at least 0 and below 1")

    started = time.perf_counter()
    version = artifacts.active_version(args.model_dir)
    model = keras.models.load_model(artifacts.model_path(version, args.model_dir))
    dataset = load_fashion_mnist(args.data_dir)
    held_out = PhotoInputs([photo for photo in list_photos(args.photos, "held-out") if photo.in_classes])
    tune = PhotoInputs(corrected_set(list_photos(args.photos, "tune"), args.per_class))
    labels = [photo.true_label(answer) for photo, answer in zip(tune.photos, tune.answers(model))]
    images, classes = tune.examples(labels)
    looks = f"{len(tune.photos)} tune photos ({len(images)} looks)"
    print(f"model {version}: {looks}, {len(held_out.photos)} held out")
    measure(model, held_out, dataset, "active model")

    def after(epoch: int) -> None:
        measure(model, held_out, dataset, f"after {epoch} epochs")

    fine_tune(model, images, classes, dataset, args, after)
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
