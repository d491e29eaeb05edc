import datetime
import gzip
import html
import io
import re
import socket
import struct
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import requests
from PIL import Image

# Tests that read or write predictions: the test keyspace on the test node, emptied after each test.
cassandra_db = pytest.mark.django_db(databases=["default", "cassandra"], transaction=True)


def write_idx_files(dataset, directory: Path) -> Path:
    """The dataset as Fashion-MNIST's four gzipped IDX files in `directory`, as mlmodel.data reads them."""
    from mlmodel.data import TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS

    for name, array in (
        (TRAIN_IMAGES, dataset.x_train),
        (TRAIN_LABELS, dataset.y_train),
        (TEST_IMAGES, dataset.x_test),
        (TEST_LABELS, dataset.y_test),
    ):
        magic = 2051 if array.ndim == 3 else 2049  # images, labels
        header = struct.pack(f">{1 + array.ndim}I", magic, *array.shape)
        with gzip.open(directory / name, "wb", compresslevel=1) as stream:
            stream.write(header + np.ascontiguousarray(array).tobytes())
    return directory


def png_bytes(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def listed(page_html: str) -> list[str]:
    """The filenames in the admin's results table, top to bottom."""
    table = page_html.split('id="result_list"', 1)[-1] if 'id="result_list"' in page_html else ""
    return [html.unescape(name) for name in re.findall(r"</th>\s*<td>([^<>]+)</td>", table)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_answering(url: str, server: subprocess.Popen, log: Path, timeout: float) -> None:
    """Poll `url` until it answers 200; fail, showing the server's log, if the server exits or time
    runs out."""
    deadline = time.monotonic() + timeout
    while True:
        assert server.poll() is None, f"the server exited:\n{log.read_text()}"
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, f"{url} did not answer within {timeout:.0f} s:\n{log.read_text()}"
        time.sleep(0.2)


def stored_prediction(
    probabilities: dict[str, float],
    *,
    none_of_the_ten: bool | None = False,
    energy: float | None = None,
    model_input: np.ndarray | None = None,
    thumbnail: Image.Image | None = None,
    preprocessing: dict | None = None,
    filename: str = "photo.jpg",
    model_version: str | None = None,
    when: datetime.datetime | None = None,
    sha256: str | None = None,
):
    """Store a prediction with these probabilities (the other classes share what is left), written
    as an upload writes it (store.record), with a 28x28 input and a thumbnail (grey unless given),
    made now or `when` (its time is in its id)."""
    import hashlib
    import json
    import uuid

    from cassandra.util import uuid_from_time
    from django.conf import settings

    from classifier import store
    from mlmodel import artifacts
    from mlmodel.classes import CLASS_NAMES

    rest = (1 - sum(probabilities.values())) / (len(CLASS_NAMES) - len(probabilities))
    shares = [probabilities.get(name, rest) for name in CLASS_NAMES]
    best = max(range(len(shares)), key=shares.__getitem__)
    pixels = model_input if model_input is not None else np.full((28, 28), 90, np.uint8)
    picture = thumbnail if thumbnail is not None else Image.new("RGB", (120, 160), (200, 200, 200))
    jpeg = io.BytesIO()
    picture.save(jpeg, format="JPEG")
    prediction_id = uuid_from_time(when) if when else uuid.uuid1()
    values = {
        "id": prediction_id,
        "filename": filename,
        "label": CLASS_NAMES[best],
        "label_index": best,
        "confidence": shares[best],
        "probabilities": shares,
        "model_version": model_version or artifacts.active_version(settings.MODEL_DIR),
        "sha256": sha256 or hashlib.sha256(prediction_id.bytes).hexdigest(),
        "image_format": "JPEG",
        "image_width": picture.width * 10,
        "image_height": picture.height * 10,
        "preprocessing": json.dumps(preprocessing or {"method": "as-is", "trimmed_box": None}),
        "energy": energy,
        "none_of_the_ten": none_of_the_ten,
    }
    return store.record(values, {"model_input_png": png_bytes(pixels), "thumbnail_jpeg": jpeg.getvalue()})


def day(count: int) -> datetime.date:
    """The UTC day `count` days ago."""
    return datetime.datetime.now(datetime.UTC).date() - datetime.timedelta(days=count)


def at(days_ago: int, hour: int, minute: int = 0, second: int = 0) -> datetime.datetime:
    """That time (UTC) of the day `days_ago` days ago."""
    d = day(days_ago)
    return datetime.datetime(d.year, d.month, d.day, hour, minute, second, tzinfo=datetime.UTC)


MODEL_VERSION = "20261125-113945"  # the version `stored` predictions were made by, unless told


def stored(
    when: datetime.datetime,
    filename: str,
    label: str = "Coat",
    confidence: float = 0.9,
    model_version: str = MODEL_VERSION,
    sha256: str | None = None,
):
    """A prediction of `label` made at `when`, stored as an upload stores it (stored_prediction)."""
    return stored_prediction(
        {label: confidence}, filename=filename, model_version=model_version, when=when, sha256=sha256
    )
