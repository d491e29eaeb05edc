"""Loading Fashion-MNIST from its four original IDX gzip files; labelled images from elsewhere."""

import gzip
import hashlib
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

IMAGE_SIZE = 28
TRAIN_IMAGES = "train-images-idx3-ubyte.gz"
TRAIN_LABELS = "train-labels-idx1-ubyte.gz"
TEST_IMAGES = "t10k-images-idx3-ubyte.gz"
TEST_LABELS = "t10k-labels-idx1-ubyte.gz"

# Where this workplace keeps datasets: beside the checkout.
SHARED_DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"

_IMAGES_MAGIC = 2051
_LABELS_MAGIC = 2049
_NUM_CLASSES = 10


def dataset_dir(name: str, variable: str) -> str | None:
    """Where a dataset is: the environment's `variable` when set, else SHARED_DATASETS/name when it
    is there, else None (Fashion-MNIST then comes from Keras's loader)."""
    shared = SHARED_DATASETS / name
    return os.environ.get(variable) or (str(shared) if shared.is_dir() else None)


@dataclass(frozen=True, eq=False)
class Dataset:
    """Train and test splits: uint8 images (n, 28, 28) and uint8 labels (n,)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    def fingerprint(self) -> str:
        """SHA-256 hex digest of the four arrays (shapes, dtypes and contents)."""
        digest = hashlib.sha256()
        for name in ("x_train", "y_train", "x_test", "y_test"):
            array = np.ascontiguousarray(getattr(self, name))
            digest.update(f"{name}:{array.dtype.str}:{array.shape};".encode())
            digest.update(array.tobytes())
        return digest.hexdigest()


@dataclass(frozen=True, eq=False)
class LabelledImages:
    """Labelled images from outside Fashion-MNIST (corrected uploads): uint8 (n, 28, 28), light on
    black as the model sees them, uint8 labels (n,), and where each came from (e.g. a prediction id)."""

    images: np.ndarray
    labels: np.ndarray
    sources: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.images.dtype != np.uint8 or self.images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
            found = f"{self.images.dtype} {self.images.shape}"
            raise ValueError(f"images are {found}, expected uint8 (n, 28, 28)")
        if self.labels.dtype != np.uint8 or self.labels.shape != (len(self.images),):
            raise ValueError(f"{len(self.images)} images but labels {self.labels.dtype} {self.labels.shape}")
        if self.labels.size and self.labels.max() >= _NUM_CLASSES:
            raise ValueError(f"label {self.labels.max()} is outside 0..9")
        if self.sources and len(self.sources) != len(self.images):
            raise ValueError(f"{len(self.images)} images but {len(self.sources)} sources")

    def __len__(self) -> int:
        return len(self.images)

    def subset(self, chosen: np.ndarray) -> "LabelledImages":
        """The examples picked by a boolean mask or an index array."""
        indices = np.arange(len(self))[chosen]
        sources = tuple(self.sources[i] for i in indices) if self.sources else ()
        return LabelledImages(self.images[indices], self.labels[indices], sources)


def load_fashion_mnist(data_dir: Path | str | None = None) -> Dataset:
    """Load Fashion-MNIST.

    From ``data_dir`` when given, else from the directory in the environment
    variable ``FASHION_MNIST_DIR`` when set, else through
    ``keras.datasets.fashion_mnist.load_data()``, which reads Keras's cache
    (``$KERAS_HOME/datasets/fashion-mnist``, by default ``~/.keras/...``) and
    downloads into it when the files are missing.

    Raises FileNotFoundError for a missing file and ValueError for a corrupt one;
    both name the file.
    """
    if data_dir is None:
        data_dir = os.environ.get("FASHION_MNIST_DIR") or None
    if data_dir is None:
        return _load_with_keras()
    directory = Path(data_dir)
    x_train = _read_idx(directory / TRAIN_IMAGES, _IMAGES_MAGIC)
    y_train = _read_idx(directory / TRAIN_LABELS, _LABELS_MAGIC)
    x_test = _read_idx(directory / TEST_IMAGES, _IMAGES_MAGIC)
    y_test = _read_idx(directory / TEST_LABELS, _LABELS_MAGIC)
    return _validated(x_train, y_train, x_test, y_test, source=str(directory))


def _load_with_keras() -> Dataset:
    # Imported here: Keras pulls in TensorFlow, which the explicit-directory path never needs.
    import keras

    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
    except Exception as error:  # Keras's downloader raises whatever the network gives it
        raise FileNotFoundError(
            f"Fashion-MNIST is not in Keras's dataset cache and could not be downloaded ({error}); "
            "give the directory of its four .gz files (--data-dir or FASHION_MNIST_DIR)"
        ) from error
    return _validated(x_train, y_train, x_test, y_test, source="Keras's dataset cache")


def _read_idx(path: Path, magic: int) -> np.ndarray:
    """Read one gzipped IDX file: a big-endian header (magic, dimension sizes), then uint8 data."""
    if not path.is_file():
        raise FileNotFoundError(f"Fashion-MNIST file not found: {path}")
    try:
        with gzip.open(path, "rb") as stream:
            raw = stream.read()
    except (OSError, EOFError, zlib.error) as error:
        raise ValueError(f"{path} is not a readable gzip file: {error}") from error

    dimensions = 3 if magic == _IMAGES_MAGIC else 1
    header_size = 4 * (1 + dimensions)
    if len(raw) < header_size:
        raise ValueError(f"{path} is too short to be an IDX file ({len(raw)} bytes)")
    found_magic, *shape = struct.unpack(f">{1 + dimensions}I", raw[:header_size])
    if found_magic != magic:
        raise ValueError(f"{path} has IDX magic number {found_magic}, expected {magic}")
    if dimensions == 3 and shape[1:] != [IMAGE_SIZE, IMAGE_SIZE]:
        raise ValueError(f"{path} holds {shape[1]}x{shape[2]} images, expected 28x28")
    expected_size = header_size + int(np.prod(shape))
    if len(raw) != expected_size:
        raise ValueError(f"{path} holds {len(raw)} bytes, its header implies {expected_size}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(shape)


def _validated(
    x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, *, source: str
) -> Dataset:
    for split, images, labels in (("train", x_train, y_train), ("test", x_test, y_test)):
        if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
            found = f"{images.dtype} {images.shape}"
            raise ValueError(f"{source}: {split} images are {found}, expected uint8 (n, 28, 28)")
        if labels.dtype != np.uint8 or labels.shape != (len(images),):
            raise ValueError(f"{source}: {len(images)} {split} images but labels of shape {labels.shape}")
        if labels.size and labels.max() >= _NUM_CLASSES:
            raise ValueError(f"{source}: {split} label {labels.max()} is outside 0..9")
    return Dataset(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
