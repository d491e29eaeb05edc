"""The mlmodel side of training with corrections: extra examples join the training split,
oversampled to a fifth of it, and never an image of the test set. No Django and no Cassandra here."""

from pathlib import Path

import numpy as np
import pytest

from mlmodel import feedback, training
from mlmodel.data import LabelledImages
from mlmodel.training import TrainingConfig, extra_repeats, train

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def dataset(fashion_mnist):
    return fashion_mnist


def distinctive_images(count: int, seed: int = 0) -> np.ndarray:
    """Noise images: nothing in Fashion-MNIST is equal to one of them."""
    return np.random.default_rng(seed).integers(0, 256, size=(count, 28, 28), dtype=np.uint8)


def occurrences(images: np.ndarray, image: np.ndarray) -> int:
    return int((images.reshape(len(images), -1) == image.reshape(-1)).all(axis=1).sum())


def test_extra_examples_join_the_training_split_only(dataset, monkeypatch):
    seen = {True: [], False: []}
    original = training.batches

    def recording(images, labels, config, *, training):
        seen[training].append((images.copy(), labels.copy()))
        return original(images, labels, config, training=training)

    monkeypatch.setattr(training, "batches", recording)
    extra = LabelledImages(distinctive_images(7), np.full(7, 3, dtype=np.uint8), tuple("abcdefg"))

    result = train(TrainingConfig(epochs=1, subset=300, batch_size=64), dataset, extra=extra, verbose=0)

    [(train_images, train_labels)] = seen[True]
    [(validation_images, _)] = seen[False]
    repeats = extra_repeats(7, 270)  # 300 images, 30 of them held out for validation
    assert repeats == 10  # 7 x 10 copies: a fifth of the training split
    assert (result.extra_examples, result.extra_repeats) == (7, repeats)
    assert len(train_images) == 270 + 7 * repeats
    for image in extra.images:
        assert occurrences(train_images, image) == repeats
        assert occurrences(validation_images, image) == 0
    is_extra = np.array([any((image == e).all() for e in extra.images) for image in train_images])
    assert (train_labels[is_extra] == 3).all()
    assert result.test.confusion.sum() == 10_000  # the test set stays Fashion-MNIST's own


def test_without_extra_examples_the_training_split_is_unchanged(dataset, monkeypatch):
    sizes = []
    original = training.batches

    def recording(images, labels, config, *, training):
        if training:
            sizes.append(len(images))
        return original(images, labels, config, training=training)

    monkeypatch.setattr(training, "batches", recording)
    result = train(TrainingConfig(epochs=1, subset=300, batch_size=64), dataset, verbose=0)
    assert sizes == [270]
    assert (result.extra_examples, result.extra_repeats) == (0, 0)


def test_corrections_make_up_a_fifth_of_the_training_split_with_a_cap_per_image():
    assert extra_repeats(0, 54_000) == 0
    assert extra_repeats(210, 54_000) == 64  # 30 corrected photos per class: 64 copies each
    assert extra_repeats(2_000, 54_000) == 7
    assert extra_repeats(3, 10_800) == 100  # a handful of corrections: at most 100 copies each
    assert extra_repeats(100_000, 54_000) == 1  # every correction is used at least once


def test_corrected_images_identical_to_test_images_are_recognised(dataset):
    images = np.concatenate([dataset.x_test[[5, 77]], distinctive_images(2), dataset.x_train[:1]])
    examples = LabelledImages(images, np.zeros(5, dtype=np.uint8))
    assert feedback.identical_to_test_images(examples, dataset).tolist() == [True, True, False, False, False]


def test_no_usable_corrections_stop_before_training(dataset, tmp_path, monkeypatch):
    monkeypatch.setattr(feedback, "train", lambda *args, **kwargs: pytest.fail("trained"))
    config = TrainingConfig(epochs=1, subset=300)
    none = LabelledImages(np.zeros((0, 28, 28), dtype=np.uint8), np.zeros(0, dtype=np.uint8))
    with pytest.raises(feedback.NoUsableCorrections, match="No corrected predictions"):
        feedback.train_with_corrections(config, dataset, none, tmp_path)
    only_test_images = LabelledImages(dataset.x_test[:3], dataset.y_test[:3])
    with pytest.raises(feedback.NoUsableCorrections, match="All 3 corrected images are identical to"):
        feedback.train_with_corrections(config, dataset, only_test_images, tmp_path)


@pytest.mark.parametrize(
    ("images", "labels", "message"),
    [
        (np.zeros((2, 28, 28), dtype=np.float32), np.zeros(2, dtype=np.uint8), "uint8"),
        (np.zeros((2, 32, 32), dtype=np.uint8), np.zeros(2, dtype=np.uint8), "28, 28"),
        (np.zeros((2, 28, 28), dtype=np.uint8), np.zeros(3, dtype=np.uint8), "labels"),
        (np.zeros((2, 28, 28), dtype=np.uint8), np.array([0, 10], dtype=np.uint8), "outside 0..9"),
    ],
)
def test_labelled_images_are_checked(images, labels, message):
    with pytest.raises(ValueError, match=message):
        LabelledImages(images, labels)
