import gzip
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mlmodel.data import TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS, load_fashion_mnist

REPO = Path(__file__).resolve().parents[1]
FILES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)


@pytest.fixture(scope="module")
def dataset(fashion_mnist):
    return fashion_mnist


@pytest.fixture
def data_dir(fashion_mnist_dir):
    return fashion_mnist_dir


def test_real_files_load_with_their_documented_shapes_and_balanced_labels(dataset):
    assert dataset.x_train.shape == (60000, 28, 28)
    assert dataset.y_train.shape == (60000,)
    assert dataset.x_test.shape == (10000, 28, 28)
    assert dataset.y_test.shape == (10000,)
    for array in (dataset.x_train, dataset.y_train, dataset.x_test, dataset.y_test):
        assert array.dtype == np.uint8
    assert np.bincount(dataset.y_train).tolist() == [6000] * 10
    assert np.bincount(dataset.y_test).tolist() == [1000] * 10
    # The published pixel statistics of the training set.
    assert dataset.x_train.mean() / 255 == pytest.approx(0.286041, abs=1e-6)
    assert dataset.y_train[0] == 9  # the first training image is an ankle boot


def test_fingerprint_is_stable_and_depends_on_the_data(dataset, data_dir):
    again = load_fashion_mnist(str(data_dir))
    assert again.fingerprint() == dataset.fingerprint()
    assert len(dataset.fingerprint()) == 64
    changed = type(dataset)(dataset.x_train, dataset.y_train, dataset.x_test, np.roll(dataset.y_test, 1))
    assert changed.fingerprint() != dataset.fingerprint()


def test_directory_comes_from_the_environment_when_not_given(dataset, data_dir, monkeypatch):
    monkeypatch.setenv("FASHION_MNIST_DIR", str(data_dir))
    assert load_fashion_mnist().fingerprint() == dataset.fingerprint()


def test_keras_fallback_reads_keras_cache_without_network(dataset, data_dir, tmp_path):
    cache = tmp_path / "keras-home" / "datasets" / "fashion-mnist"
    cache.mkdir(parents=True)
    for name in FILES:
        (cache / name).symlink_to(data_dir / name)
    env = {key: value for key, value in os.environ.items() if key != "FASHION_MNIST_DIR"}
    # Keras reads KERAS_HOME when it is imported, hence a fresh process. The dead
    # proxy makes any download attempt fail instead of silently succeeding.
    dead_proxy = "http://127.0.0.1:9"
    env.update(KERAS_HOME=str(tmp_path / "keras-home"), HTTPS_PROXY=dead_proxy, https_proxy=dead_proxy)
    script = "from mlmodel.data import load_fashion_mnist; print(load_fashion_mnist().fingerprint())"
    completed = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split()[-1] == dataset.fingerprint()


def _data_dir_with(tmp_path, name, content, source: Path):
    """A copy of the data directory `source` in which file `name` has `content` (None: missing)."""
    for other in FILES:
        if other != name:
            (tmp_path / other).symlink_to(source / other)
    if content is not None:
        (tmp_path / name).write_bytes(content)
    return tmp_path


def test_missing_file_is_named(tmp_path, data_dir):
    data_dir = _data_dir_with(tmp_path, TEST_LABELS, None, data_dir)
    with pytest.raises(FileNotFoundError, match=TEST_LABELS):
        load_fashion_mnist(data_dir)


def _labels_gzip(magic=2049, count=10000, payload_size=10000):
    header = magic.to_bytes(4, "big") + count.to_bytes(4, "big")
    return gzip.compress(header + bytes(payload_size))


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"this is not gzip data", id="not-gzip"),
        pytest.param("truncated", id="truncated-gzip"),  # the real file's first 2,000 bytes
        pytest.param(_labels_gzip(magic=2051), id="wrong-magic"),
        pytest.param(_labels_gzip(payload_size=9999), id="short-payload"),
        pytest.param(gzip.compress(b"\x00\x00"), id="no-header"),
    ],
)
def test_corrupt_file_is_named(tmp_path, content, data_dir):
    if content == "truncated":
        content = (data_dir / TEST_LABELS).read_bytes()[:2000]
    data_dir = _data_dir_with(tmp_path, TEST_LABELS, content, data_dir)
    with pytest.raises(ValueError, match=TEST_LABELS):
        load_fashion_mnist(data_dir)


def test_images_and_labels_must_agree(tmp_path, data_dir):
    data_dir = _data_dir_with(tmp_path, TEST_LABELS, _labels_gzip(count=9000, payload_size=9000), data_dir)
    with pytest.raises(ValueError, match="10000 test images"):
        load_fashion_mnist(data_dir)


def test_labels_must_be_class_indices(tmp_path, data_dir):
    header = (2049).to_bytes(4, "big") + (10000).to_bytes(4, "big")
    data_dir = _data_dir_with(tmp_path, TEST_LABELS, gzip.compress(header + bytes([10]) * 10000), data_dir)
    with pytest.raises(ValueError, match="label 10"):
        load_fashion_mnist(data_dir)
