"""Serving predictions from the active model's LiteRT export, loaded once per process.

Serving runs the model.tflite of a version through the LiteRT interpreter, not
TensorFlow: one small compiled call per batch instead of model.predict's data
pipeline, and a worker process of about 40 MB instead of about 0.5 GB. Where the CPU
multiplies int8 fast, the version's int8 export (model-int8.tflite) is served instead:
see served_precision.
"""

import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from mlmodel import artifacts, cpu
from mlmodel.classes import CLASS_NAMES
from mlmodel.data import IMAGE_SIZE


@dataclass(frozen=True)
class Classification:
    label: str
    label_index: int
    confidence: float
    probabilities: tuple[float, ...]  # one per class in CLASS_NAMES order, summing to 1
    # mlmodel.novelty's scores; None for a model exported without them
    energy: float | None = None
    familiarity: float | None = None
    none_of_the_ten: bool = False  # a score below the model's threshold: probably none of the ten


# Batches of at least this many images run on all the process's cores, up to PARALLEL_THREADS: a
# result's heat map classifies 65 at once (mlmodel.explanation), and there two cores give the int8
# export 1.9x the images a second of one. Smaller ones run on one core: a web server's requests are
# its parallelism, and an image or two is too small a task to share.
PARALLEL_FROM = 16
PARALLEL_THREADS = 4  # at most: on a many-core machine every worker would start a thread per core


class Predictor:
    """One loaded model version, callable from many threads at once."""

    def __init__(
        self,
        litert_file: Path,
        version: str,
        none_of_the_ten_below: float | None = None,
        familiarity_below: float | None = None,
        precision: str = "float",
    ) -> None:
        self.version = version
        self.precision = precision  # of the file served: "float" or "int8"
        self.none_of_the_ten_below = none_of_the_ten_below  # of the energy
        self.familiarity_below = familiarity_below
        self._one_core = _Interpreter(litert_file, threads=1)
        cores = min(len(os.sched_getaffinity(0)), PARALLEL_THREADS)
        self._all_cores = _Interpreter(litert_file, threads=cores) if cores > 1 else self._one_core

    @classmethod
    def load(cls, version: str, model_dir: Path | str, precision: str = "float") -> "Predictor":
        """A version's predictor; precision one of artifacts.PRECISIONS (see served_precision)."""
        metadata = artifacts.read_metadata(version, model_dir)
        served = served_precision(precision, version, model_dir)
        return cls(
            artifacts.litert_path(version, model_dir, served),
            version,
            metadata.get("none_of_the_ten_below"),
            metadata.get("familiarity_below"),
            served,
        )

    def classify(
        self, pixels: np.ndarray, second_looks: Sequence[np.ndarray | None] | None = None
    ) -> list[Classification]:
        """Classify (n, 28, 28) uint8 images, light garments on black, in one forward pass (two with
        second looks).

        `second_looks`: for each image another look at it, (28, 28) uint8, or None (a wide garment
        squeezed to the square, mlmodel.cut_out). Where there is one, the answer is that of the two
        looks' mean logits: the normalised geometric mean of their probabilities, as the mirror
        image's is averaged in. The none-of-the-ten scores stay the first look's, the one their
        thresholds were fitted on.
        """
        _check_images(pixels)
        if second_looks is not None and len(second_looks) != len(pixels):
            raise ValueError(f"{len(second_looks)} second looks for {len(pixels)} images")
        if len(pixels) == 0:
            return []
        probabilities, scores = self._run(pixels)
        looked = [index for index, look in enumerate(second_looks or ()) if look is not None]
        if looked:
            again = np.stack([second_looks[index] for index in looked])
            _check_images(again)
            # A second call rather than one batch of both: a batch of a new size makes the
            # interpreter allocate its tensors again.
            probabilities[looked] = combine_looks(probabilities[looked], self._run(again)[0])
        missing = [None] * len(pixels)
        energies = scores[0] if len(scores) > 0 else missing
        familiarities = scores[1] if len(scores) > 1 else missing
        return [self._classification(*row) for row in zip(probabilities, energies, familiarities)]

    def _run(self, pixels: np.ndarray) -> tuple[np.ndarray, list[list[float]]]:
        interpreter = self._all_cores if len(pixels) >= PARALLEL_FROM else self._one_core
        probabilities, scores = interpreter.run(pixels)
        return probabilities / probabilities.sum(axis=1, keepdims=True), scores

    def _classification(
        self, probabilities: np.ndarray, energy: float | None, familiarity: float | None
    ) -> Classification:
        index = int(np.argmax(probabilities))
        return Classification(
            label=CLASS_NAMES[index],
            label_index=index,
            confidence=float(probabilities[index]),
            probabilities=tuple(float(p) for p in probabilities),
            energy=energy,
            familiarity=familiarity,
            none_of_the_ten=_below(energy, self.none_of_the_ten_below)
            or _below(familiarity, self.familiarity_below),
        )


class _Interpreter:
    """A LiteRT interpreter of one export, on `threads` cores. It holds its tensors between calls, so
    calls take turns."""

    def __init__(self, litert_file: Path, threads: int) -> None:
        self._interpreter = Interpreter(model_path=str(litert_file), num_threads=threads)
        self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]["index"]
        # Probabilities (n, 10), then from models exported with them the energy (n,) and the
        # familiarity (n,) (mlmodel.litert.serving_model), each tensor named for its place: "...:1".
        outputs = sorted(
            self._interpreter.get_output_details(), key=lambda output: int(output["name"].rsplit(":", 1)[-1])
        )
        self._output = outputs[0]["index"]
        self._scores = [output["index"] for output in outputs[1:3]]
        self._batch_size = 1
        self._lock = threading.Lock()

    def run(self, pixels: np.ndarray) -> tuple[np.ndarray, list[list[float]]]:
        """Probabilities (n, 10) as float64, and each score's n values."""
        with self._lock:
            if len(pixels) != self._batch_size:
                self._interpreter.resize_tensor_input(self._input, pixels.shape)
                self._interpreter.allocate_tensors()
                self._batch_size = len(pixels)
            self._interpreter.set_tensor(self._input, np.ascontiguousarray(pixels))
            self._interpreter.invoke()
            probabilities = self._interpreter.get_tensor(self._output).astype(np.float64)
            return probabilities, [
                self._interpreter.get_tensor(index).ravel().tolist() for index in self._scores
            ]


def _check_images(pixels: np.ndarray) -> None:
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise ValueError(f"Expected uint8 images of shape (n, 28, 28), got {pixels.dtype} {pixels.shape}")


def combine_looks(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Two looks' probabilities (n, 10) as one answer: each row's normalised geometric mean, the
    softmax of the two looks' mean logits. `second` may be one row (10,), the same look beside each."""
    mean = np.sqrt(first * second)
    return mean / mean.sum(axis=1, keepdims=True)


def served_precision(precision: str, version: str, model_dir: Path | str) -> str:
    """The export of a version that serves when `precision` is asked: "float" or "int8".

    "int8": its int8 export, as accurate and as well calibrated (bench.predictor --int8) but computed
    in integers, so probabilities differ from Keras's by up to a tenth; "float": model.tflite, equal to
    Keras's to 1e-5; "auto": int8 where the CPU has int8 dot products (cpu.has_int8_dot_products:
    2.7-4.8x as fast there, slower without them), else float. A version without an int8 export is served in
    float whatever is asked.
    """
    if precision not in artifacts.PRECISIONS:
        raise ValueError(f"precision must be one of {artifacts.PRECISIONS}, not {precision!r}")
    if precision == "float" or not artifacts.litert_path(version, model_dir, "int8").is_file():
        return "float"
    return "int8" if precision == "int8" or cpu.has_int8_dot_products() else "float"


def _below(score: float | None, threshold: float | None) -> bool:
    return score is not None and threshold is not None and score < threshold


_predictors: dict[tuple[Path, str], Predictor] = {}  # by model directory and precision asked
_loading = threading.Lock()
# How often a process reads ACTIVE again: reading it (and checking the version's files, and resolving
# the directory) on every request cost a worker more than the model did on small uploads
# (bench/README.md). Another process's activation takes effect within this time; this process's own
# (artifacts.activate) at once.
CHECK_INTERVAL = 1.0  # seconds
# By model_dir as given and precision: predictor, when, activations.
_checked: dict[tuple[object, str], tuple[Predictor, float, int]] = {}


def get_predictor(model_dir: Path | str | None = None, precision: str = "float") -> Predictor:
    """The predictor for the active version in model_dir (default: the shipped artifacts), serving
    the export `precision` chooses (served_precision; the site's setting is PREDICTOR_PRECISION).

    Loaded once per process, model directory and precision. The small ACTIVE file is read again at
    most every CHECK_INTERVAL seconds, so activating another version takes effect without a restart.
    """
    given = model_dir if model_dir is not None else artifacts.DEFAULT_MODEL_DIR
    now = time.monotonic()
    activations = artifacts.activations  # before reading ACTIVE: one made meanwhile is seen next call
    checked = _checked.get((given, precision))
    if checked is not None and now - checked[1] < CHECK_INTERVAL and checked[2] == activations:
        return checked[0]
    predictor = _active_predictor(Path(given).resolve(), precision)
    _checked[given, precision] = (predictor, now, activations)
    return predictor


def _active_predictor(model_dir: Path, precision: str) -> Predictor:
    key = (model_dir, precision)
    version = artifacts.active_version(model_dir)
    predictor = _predictors.get(key)
    if predictor is not None and predictor.version == version:
        return predictor
    with _loading:
        # Reread: another thread may have loaded a newer activation meanwhile.
        version = artifacts.active_version(model_dir)
        predictor = _predictors.get(key)
        if predictor is None or predictor.version != version:
            predictor = Predictor.load(version, model_dir, precision)
            _predictors[key] = predictor
        return predictor
