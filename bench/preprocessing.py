"""Preprocessing time per upload: 12-megapixel phone JPEGs and 28x28 PNGs, today's path and the old one.

    .venv/bin/python -m bench.preprocessing [--photos DIR] [--count 12] [--repeat 5]

What an upload costs before the model runs, on one core: decoding (with the EXIF orientation), the
28x28 input (segmentation included) and the 160-pixel thumbnail. The phone JPEGs are made from real
photos of the development set (or tests/photos without it): enlarged to 4032x3024, given a camera's
sensor noise, saved at JPEG quality 90 (2-3 MB, as a phone saves them), half of them portrait by
their EXIF orientation. "Old path" is what uploads took before phone photos were segmented: the
whole image decoded at full size, the product-photo steps on it, the thumbnail made from it.
Prints p50 and p99 in ms (wall-clock, and CPU time: fair on a shared machine) for each path and
kind, the ratio of CPU times, and the decode-only time of today's
path (what libjpeg spends reading the file, the floor for its size).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fashionsite.settings")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import cv2  # noqa: E402
import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from PIL import Image, ImageOps  # noqa: E402

from classifier.uploads import THUMBNAIL_SIZE, thumbnail_jpeg  # noqa: E402
from mlmodel import even_background  # noqa: E402
from mlmodel.clothing_photos import list_photos  # noqa: E402
from mlmodel.data import dataset_dir, load_fashion_mnist  # noqa: E402
from mlmodel.preprocessing import open_image, to_model_input, working_copy  # noqa: E402

# Without the development photos, the few shipped for the tests.
DEFAULT_PHOTOS = dataset_dir("clothing-photos", "CLOTHING_PHOTOS_DIR") or REPO / "tests" / "photos"
GOAL_MS = 25.0
PORTRAIT = 6  # EXIF orientation: turn 90 degrees clockwise to show


def phone_jpeg(path: Path, portrait: bool, rng: np.random.Generator) -> bytes:
    """A 12-megapixel JPEG of a real photo, as a phone's camera would write it."""
    photo = Image.open(path).convert("RGB")
    if portrait:  # stored landscape, shown portrait, as phones do
        photo = photo.transpose(Image.Transpose.ROTATE_90)
    big = np.asarray(photo.resize((4032, 3024), Image.Resampling.BICUBIC), dtype=np.float32)
    big += rng.normal(0, 2.5, big.shape).astype(np.float32)
    exif = Image.Exif()
    if portrait:
        exif[0x0112] = PORTRAIT
    buffer = io.BytesIO()
    Image.fromarray(np.clip(big, 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=90, exif=exif)
    return buffer.getvalue()


def png_28(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def todays_path(data: bytes) -> None:
    image = open_image(data)
    upright = working_copy(image)
    to_model_input(image, upright)
    thumbnail_jpeg(upright)


def old_path(data: bytes) -> None:
    image = Image.open(io.BytesIO(data))
    image.load()
    even_background.to_model_input(np.asarray(ImageOps.exif_transpose(image).convert("L")))
    thumbnail = image.convert("RGB")
    thumbnail.thumbnail(THUMBNAIL_SIZE, Image.Resampling.LANCZOS)
    thumbnail.save(io.BytesIO(), format="JPEG", quality=85)


def decode_only(data: bytes) -> None:
    open_image(data)


def timings(
    paths: dict[str, Callable[[bytes], None]], files: list[bytes], repeat: int
) -> dict[str, tuple[list[float], list[float]]]:
    """Milliseconds per file for each path: wall-clock, and CPU (this process's, which runs on one
    core). On a machine shared with other jobs the CPU time is the fair measure: wall time adds the
    waits. The paths take turns file by file, so a slower spell of the machine weighs on all alike."""
    measured = {name: ([], []) for name in paths}
    for _ in range(repeat):
        for data in files:
            for name, path in paths.items():
                started, started_cpu = time.perf_counter(), time.process_time()
                path(data)
                measured[name][0].append(1000 * (time.perf_counter() - started))
                measured[name][1].append(1000 * (time.process_time() - started_cpu))
    return measured


def p(values: list[float], share: float) -> float:
    return float(np.percentile(values, 100 * share))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    parser.add_argument("--count", type=int, default=12, help="phone JPEGs made (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    cv2.setNumThreads(1)  # one core, as the goal is stated

    source = args.photos
    rng = np.random.default_rng(0)
    photos = list_photos(source)
    chosen = [photos[i] for i in rng.choice(len(photos), size=min(args.count, len(photos)), replace=False)]
    jpegs = [phone_jpeg(photo.path, index % 2 == 1, rng) for index, photo in enumerate(chosen)]
    pngs = [png_28(pixels) for pixels in load_fashion_mnist(settings.FASHION_MNIST_DIR).x_test[:200]]
    sizes = [len(data) / 1e6 for data in jpegs]
    print(
        f"{len(jpegs)} phone JPEGs of 4032x3024 from {source}: {min(sizes):.1f}-{max(sizes):.1f} MB "
        f"(median {statistics.median(sizes):.1f}); {len(pngs)} 28x28 PNGs"
    )

    # Today's path first on each file: it finds the file's bytes no warmer in the caches than an upload.
    paths = {"today": todays_path, "decode only": decode_only, "old": old_path}
    timings(paths, jpegs[:2] + pngs[:5], 1)  # warm up
    print(f"\n{'kind':<22}{'path':<14}{'p50 ms':>9}{'p99 ms':>9}{'CPU p50':>9}{'CPU p99':>9}")
    results = {}
    for kind, files, repeat in (("12 MP phone JPEG", jpegs, args.repeat), ("28x28 PNG", pngs, 2)):
        for name, (wall, cpu) in timings(paths, files, repeat).items():
            results[kind, name] = p(cpu, 0.5)
            print(
                f"{kind:<22}{name:<14}{p(wall, 0.5):>9.2f}{p(wall, 0.99):>9.2f}"
                f"{p(cpu, 0.5):>9.2f}{p(cpu, 0.99):>9.2f}"
            )
    for kind in ("12 MP phone JPEG", "28x28 PNG"):
        print(
            f"{kind}: today's path {results[kind, 'old'] / results[kind, 'today']:.1f}x less CPU than the old"
        )
    phone = results["12 MP phone JPEG", "today"]
    print(
        f"\n12 MP phone JPEG CPU p50 {phone:.1f} ms: goal <= {GOAL_MS:.0f} ms "
        f"{'met' if phone <= GOAL_MS else 'NOT met'}"
        f" (decoding alone {results['12 MP phone JPEG', 'decode only']:.1f} ms)"
    )
    print(f"load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
