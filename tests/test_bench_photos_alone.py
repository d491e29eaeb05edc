"""bench.photos_alone's choice of photos, their labels and their augmentation (the bench itself
fine-tunes on thousands of photos; tests/photos holds a few)."""

from pathlib import Path

import numpy as np

from bench.photos_alone import PhotoInputs, corrected, moved, staff_labels
from mlmodel.clothing_photos import list_photos

PHOTOS = Path(__file__).resolve().parent / "photos"


def test_staff_correct_only_photos_of_the_ten_and_at_most_n_of_each_folder():
    photos = list_photos(PHOTOS)
    chosen = corrected(photos, per_class=1)
    folders = [photo.folder for photo in chosen]
    assert len(folders) == len(set(folders))
    assert all(photo.in_classes for photo in chosen)
    assert {photo.folder for photo in photos if photo.in_classes} == set(folders)
    assert corrected(photos, None) == [photo for photo in photos if photo.in_classes]


def test_a_right_answer_is_kept_and_a_wrong_one_becomes_the_folders_first_right_answer():
    photos = {photo.folder: photo for photo in list_photos(PHOTOS)}
    longsleeve, shoes = photos["longsleeve"], photos["shoes"]
    assert staff_labels([longsleeve, shoes], ["Shirt", "Bag"]) == ["Shirt", "Sandal"]


def test_every_look_of_a_photo_is_an_example_of_its_label():
    photos = corrected(list_photos(PHOTOS), per_class=2)
    inputs = PhotoInputs(photos)
    labels = staff_labels(photos, [photo.accepted[0] for photo in photos])
    images, classes = inputs.examples(labels)
    assert len(images) == len(photos) + len(inputs.second) == len(classes)
    assert images.shape[1:] == (28, 28) and images.dtype == np.uint8


def test_moving_an_image_mirrors_or_shifts_it_without_losing_a_pixel():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (50, 28, 28), dtype=np.uint8)
    result = moved(images, rng)
    assert result.shape == images.shape
    assert all(np.array_equal(np.sort(a, axis=None), np.sort(b, axis=None)) for a, b in zip(images, result))
    assert sum(not np.array_equal(a, b) for a, b in zip(images, result)) > 40
