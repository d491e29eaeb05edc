"""Product-photo renders of test images, through the upload preprocessing, score like the clean images.

A small sample here; `python -m bench.product_photos` measures the whole test set.
"""

from pathlib import Path

import numpy as np
import pytest

from mlmodel.predictor import get_predictor
from mlmodel.preprocessing import open_image, to_model_input
from mlmodel.product_photos import KINDS, kind_of, model_input, render

REPO = Path(__file__).resolve().parents[1]
SAMPLE = 30 * len(KINDS)


@pytest.fixture(scope="module")
def test_set(fashion_mnist):
    dataset = fashion_mnist
    return dataset.x_test[:SAMPLE], dataset.y_test[:SAMPLE]


def test_renders_are_large_product_photos_in_every_kind(test_set):
    images, _ = test_set
    rng = np.random.default_rng(0)
    modes = {}
    for kind in KINDS:
        photo = open_image(render(images[0], kind, rng))
        assert min(photo.size) >= 300
        modes[kind] = photo.mode
        decided = to_model_input(photo)
        assert decided.inverted  # a dark garment on a light background
        assert decided.exif_transposed is (kind == "exif-rotated-jpeg")
    assert modes == {
        "rgb-jpeg": "RGB",
        "rgba-png": "RGBA",
        "palette-png": "P",
        "cmyk-jpeg": "CMYK",
        "16-bit-png": "I;16",
        "exif-rotated-jpeg": "RGB",
        "grey-png": "L",
    }


def test_renders_score_within_a_few_points_of_the_clean_images(test_set):
    images, labels = test_set
    inputs = np.stack([model_input(index, pixels) for index, pixels in enumerate(images)])
    correlations = [np.corrcoef(a.ravel(), b.ravel())[0, 1] for a, b in zip(inputs, images)]
    assert np.median(correlations) > 0.95

    predictor = get_predictor()
    clean = np.mean([c.label_index for c in predictor.classify(images)] == labels)
    photos = np.mean([c.label_index for c in predictor.classify(inputs)] == labels)
    # 2 points on the whole test set (bench.product_photos); a sample this small needs some slack.
    assert photos >= clean - 0.04, (clean, photos)
    assert {kind_of(index) for index in range(SAMPLE)} == set(KINDS)
