"""bench.photos_alone's examples and their augmentation (the bench itself fine-tunes on thousands of
photos; tests/photos holds a few)."""

from pathlib import Path

import numpy as np

from bench.photos_alone import PhotoInputs, moved
from mlmodel.clothing_photos import corrected_set, list_photos

PHOTOS = Path(__file__).resolve().parent / "photos"


def test_every_look_of_a_photo_is_an_example_of_its_label():
    photos = corrected_set(list_photos(PHOTOS), per_class=2)
    inputs = PhotoInputs(photos)
    images, classes = inputs.examples([photo.accepted[0] for photo in photos])
    assert len(images) == len(photos) + len(inputs.second) == len(classes)
    assert images.shape[1:] == (28, 28) and images.dtype == np.uint8


def test_moving_an_image_mirrors_or_shifts_it_without_losing_a_pixel():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (50, 28, 28), dtype=np.uint8)
    result = moved(images, rng)
    assert result.shape == images.shape
    assert all(np.array_equal(np.sort(a, axis=None), np.sort(b, axis=None)) for a, b in zip(images, result))
    assert sum(not np.array_equal(a, b) for a, b in zip(images, result)) > 40
