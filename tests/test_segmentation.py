"""Cutting the garment out of a phone photo (mlmodel.segmentation) and the 28x28 input made from it.

Synthetic photos have a known garment, so the mask can be scored against the truth; the real
photos shipped in tests/photos (CC0, from the development set) show that real ones come out as
Fashion-MNIST-like inputs.
"""

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from mlmodel.clothing_photos import list_photos
from mlmodel.preprocessing import open_image, to_model_input
from mlmodel.segmentation import find_garment

PHOTOS = Path(__file__).parent / "photos"
SIZE = (400, 530)  # width, height: the development photos' own size


def _sheet(rng: np.random.Generator) -> np.ndarray:
    """A printed bed sheet: light, with a dense pattern of flowers and stripes and some noise."""
    width, height = SIZE
    ys, xs = np.mgrid[0:height, 0:width]
    stripes = 0.5 + 0.5 * np.sin(xs / 7.0 + ys / 19.0)
    sheet = np.stack([200 + 30 * stripes, 180 + 40 * stripes, 190 - 20 * stripes], axis=-1)
    for _ in range(60):  # flowers
        centre = (int(rng.integers(width)), int(rng.integers(height)))
        cv2.circle(sheet, centre, int(rng.integers(4, 12)), (230, 120, 150), -1)
    return np.clip(sheet + rng.normal(0, 6, sheet.shape), 0, 255)


def _t_shirt_mask(offset_y: int = 0) -> np.ndarray:
    width, height = SIZE
    mask = np.zeros((height, width), np.uint8)
    body = np.array([[130, 120], [270, 120], [330, 190], [290, 230], [275, 210], [275, 430], [125, 430],
                     [125, 210], [110, 230], [70, 190]], np.int32)  # fmt: skip
    cv2.fillPoly(mask, [body + [0, offset_y]], 1)
    return mask.astype(bool)


def _photo(mask: np.ndarray, colour: tuple[int, int, int], rng: np.random.Generator) -> np.ndarray:
    photo = _sheet(rng)
    cloth = np.array(colour, np.float64) + rng.normal(0, 5, photo.shape)
    photo[mask] = cloth[mask]
    return np.clip(np.round(photo), 0, 255).astype(np.uint8)


def _jpeg(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def _iou(found: np.ndarray, truth: np.ndarray) -> float:
    found = cv2.resize(found.astype(np.uint8), truth.shape[::-1], interpolation=cv2.INTER_NEAREST).astype(
        bool
    )
    return (found & truth).sum() / (found | truth).sum()


@pytest.mark.parametrize(
    "colour", [(30, 40, 90), (200, 40, 40), (240, 240, 235)], ids=["navy", "red", "white"]
)
def test_a_garment_on_a_printed_sheet_is_cut_out(colour):
    truth = _t_shirt_mask()
    garment = find_garment(_photo(truth, colour, np.random.default_rng(1)))
    assert garment.method == "grabcut"
    assert _iou(garment.mask, truth) >= 0.85
    assert not garment.pair_split


def test_a_garment_touching_the_frame_is_found_up_to_the_edge():
    truth = _t_shirt_mask(offset_y=120)  # the hem runs off the bottom of the photo
    garment = find_garment(_photo(truth, (30, 40, 90), np.random.default_rng(2)))
    assert _iou(garment.mask, truth) >= 0.8
    assert garment.box[3] >= 0.95


@pytest.mark.parametrize(
    "centre, axes",
    [((95, 110), (60, 70)), ((310, 430), (60, 70)), ((70, 265), (40, 200))],
    ids=["upper-left", "lower-right", "along-the-left-edge"],
)
def test_a_garment_away_from_the_middle_of_the_photo_is_cut_out(centre, axes):
    # GrabCut's first guess of the garment's colours comes from the middle of the frame: a garment
    # lying elsewhere must still be found.
    width, height = SIZE
    truth = np.zeros((height, width), np.uint8)
    cv2.ellipse(truth, centre, axes, 0, 0, 360, 1, -1)
    garment = find_garment(_photo(truth.astype(bool), (30, 40, 90), np.random.default_rng(8)))
    assert garment.method == "grabcut"
    assert _iou(garment.mask, truth.astype(bool)) >= 0.85


def test_a_garment_on_a_flat_wall_is_cut_out():
    # Flat colours, not a grain of noise: colour models with no spread, which OpenCV refuses unless
    # their covariances are kept away from singular.
    width, height = SIZE
    photo = np.empty((height, width, 3), np.uint8)
    photo[:] = (40, 120, 60)
    truth = np.zeros((height, width), bool)
    truth[130:420, 120:280] = True
    photo[truth] = (200, 30, 30)
    garment = find_garment(photo)
    assert garment.method == "grabcut"
    assert _iou(garment.mask, truth) >= 0.85


def test_a_hanger_hook_is_not_part_of_the_garment():
    truth = _t_shirt_mask()
    photo = _photo(truth, (30, 40, 90), np.random.default_rng(3))
    cv2.line(photo, (200, 120), (200, 40), (40, 40, 40), 3)  # the hook, as thin as in the photos
    cv2.ellipse(photo, (200, 40), (14, 14), 0, 180, 360, (40, 40, 40), 3)
    garment = find_garment(photo)
    top = garment.box[1] * SIZE[1]
    assert top >= 105  # the garment's shoulders are at 120; the hook reaches up to 26


def test_two_shoes_side_by_side_are_split_and_one_is_kept():
    rng = np.random.default_rng(4)
    width, height = SIZE
    left, right = np.zeros((height, width), np.uint8), np.zeros((height, width), np.uint8)
    cv2.ellipse(left, (130, 270), (55, 130), 0, 0, 360, 1, -1)
    cv2.ellipse(right, (275, 265), (55, 125), 0, 0, 360, 1, -1)
    garment = find_garment(_photo((left | right).astype(bool), (25, 25, 25), rng))
    assert garment.pair_split
    assert _iou(garment.mask, left.astype(bool)) >= 0.8


def test_outline_follows_the_mask():
    truth = _t_shirt_mask()
    garment = find_garment(_photo(truth, (30, 40, 90), np.random.default_rng(5)))
    outline = np.array(garment.outline())
    assert 4 <= len(outline) <= 60
    assert ((outline >= 0) & (outline <= 1)).all()
    area = cv2.contourArea((outline * [SIZE[0], SIZE[1]]).astype(np.float32))
    assert area / truth.sum() == pytest.approx(1, abs=0.15)


def test_a_phone_photo_becomes_a_light_garment_on_pure_black():
    truth = _t_shirt_mask()
    model_input = to_model_input(open_image(_jpeg(_photo(truth, (30, 40, 90), np.random.default_rng(6)))))
    pixels = model_input.pixels
    assert model_input.method == "grabcut"
    assert model_input.inverted  # a dark garment comes out light, as in Fashion-MNIST
    ys, xs = np.mgrid[0:28, 0:28]
    outside = ~cv2.resize(truth.astype(np.uint8), (28, 28), interpolation=cv2.INTER_AREA).astype(bool)
    assert pixels.max() == 255
    assert np.median(pixels[pixels > 0]) > 150
    # The corners, far from the garment, are pure black: nothing of the sheet is left.
    assert (pixels[:3, :3] == 0).all() and (pixels[-3:, -3:] == 0).all()
    # Trimmed to the garment and centred: it spans the full height, centred left to right.
    rows = np.flatnonzero(pixels.max(axis=1) > 0)
    columns = np.flatnonzero(pixels.max(axis=0) > 0)
    assert rows[0] <= 1 and rows[-1] >= 26
    assert abs((columns[0] + columns[-1]) / 2 - 13.5) <= 1.5
    assert outside.any()


def test_decisions_say_what_segmentation_found():
    truth = _t_shirt_mask()
    model_input = to_model_input(open_image(_jpeg(_photo(truth, (200, 40, 40), np.random.default_rng(7)))))
    segmentation = model_input.decisions()["segmentation"]
    assert segmentation["mask_share"] == pytest.approx(truth.mean(), abs=0.05)
    left, top, right, bottom = segmentation["box"]
    assert (left, top, right, bottom) == pytest.approx((70 / 400, 120 / 530, 330 / 400, 430 / 530), abs=0.04)
    assert segmentation["pair_split"] is False
    assert len(segmentation["outline"]) >= 4


def _spans(pixels: np.ndarray) -> tuple[int, int]:
    """(width, height) of what is not black."""
    rows = np.flatnonzero(pixels.max(axis=1) > 0)
    columns = np.flatnonzero(pixels.max(axis=0) > 0)
    return int(columns[-1] - columns[0] + 1), int(rows[-1] - rows[0] + 1)


def test_a_top_laid_flat_with_its_arms_out_gets_a_second_look_that_fills_the_square():
    # A long-sleeved top photographed flat: the arms spread out, wider than tall.
    width, height = SIZE
    mask = np.zeros((height, width), np.uint8)
    cv2.rectangle(mask, (140, 180), (260, 360), 1, -1)  # the body
    cv2.rectangle(mask, (20, 185), (380, 225), 1, -1)  # the arms
    photo = _photo(mask.astype(bool), (30, 40, 90), np.random.default_rng(8))
    wide = to_model_input(open_image(_jpeg(photo)))
    spread, look = _spans(wide.pixels), _spans(wide.second_look)
    assert spread[0] >= 27 and spread[1] <= 18  # its aspect kept: as wide as the frame, half as tall
    assert look[0] >= 27 and look[1] >= 27  # the second look fills the square
    assert wide.decisions()["segmentation"]["second_look"] is True
    tall = to_model_input(open_image(_jpeg(_photo(_t_shirt_mask(), (30, 40, 90), np.random.default_rng(9)))))
    assert tall.second_look is None
    assert tall.decisions()["segmentation"]["second_look"] is False


# The tune photos, chosen to show each kind of background; the held-out ones are the first of their
# folders whatever their cut-out (tests/test_novelty.py), and a few come out badly (whole photo).
@pytest.mark.parametrize(
    "photo", list_photos(PHOTOS, "tune"), ids=lambda photo: f"{photo.folder}/{photo.path.name[:8]}"
)
def test_real_photos_become_fashion_mnist_like_inputs(photo):
    model_input = to_model_input(open_image(photo.path.read_bytes()))
    pixels = model_input.pixels
    assert model_input.method in ("grabcut", "product-photo")
    assert pixels.max() == 255
    # Trimmed and centred as in Fashion-MNIST: the garment spans the frame along its long side and
    # is centred along the other, on black.
    rows = np.flatnonzero(pixels.max(axis=1) > 0)
    columns = np.flatnonzero(pixels.max(axis=0) > 0)
    spans = sorted([rows[-1] - rows[0] + 1, columns[-1] - columns[0] + 1])
    assert spans[1] >= 27
    assert abs((rows[0] + rows[-1]) / 2 - 13.5) <= 1.5 and abs((columns[0] + columns[-1]) / 2 - 13.5) <= 1.5
    if model_input.garment is not None:
        assert 0.05 <= model_input.garment.share <= 0.95
        # The background around the garment is cut away: most of the photo's edge shows the bed,
        # floor or wall, not the garment.
        mask = model_input.garment.mask
        edge = np.concatenate([mask[0], mask[-1], mask[:, 0], mask[:, -1]])
        assert edge.mean() <= 0.5
