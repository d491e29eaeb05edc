"""Versioned model artifacts on disk: finding, reading and activating versions.

Layout of a model directory::

    <model_dir>/<version>/model.keras      the trained Keras model
    <model_dir>/<version>/model.tflite     its LiteRT export, which serving runs
    <model_dir>/<version>/model-int8.tflite  the same with int8 weights and activations, served
                                           where it is faster (mlmodel.predictor)
    <model_dir>/<version>/metadata.json
    <model_dir>/<version>/report.json, confusion_matrix.png, training_curves.png
    <model_dir>/ACTIVE          the version that serves predictions

A version is the UTC time of publication, "YYYYMMDD-HHMMSS", with "-2", "-3", ...
appended when that second is taken already. `mlmodel.publishing` writes versions and
`mlmodel.report` their report; this module loads neither TensorFlow nor matplotlib, so the
site lists, reads and activates versions without them.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mlmodel.classes import CLASS_NAMES

DEFAULT_MODEL_DIR: Path = Path(__file__).parent / "artifacts"
MODEL_FILE = "model.keras"
LITERT_FILE = "model.tflite"
INT8_LITERT_FILE = "model-int8.tflite"  # versions published before there was one have none
EXPORTS = {"float": LITERT_FILE, "int8": INT8_LITERT_FILE}  # a version's LiteRT files, by precision
# What a version can be served in (mlmodel.predictor.served_precision): one of its exports, or "auto".
PRECISIONS = ("auto", *EXPORTS)
METADATA_FILE = "metadata.json"
DETECTOR_FILE = "photo_detector.npz"  # mlmodel.photo_detector, when the model has one
ACTIVE_FILE = "ACTIVE"
# The report of a training run (mlmodel/report.py writes them), and what each plot shows.
REPORT_FILE = "report.json"
CONFUSION_MATRIX_FILE = "confusion_matrix.png"
TRAINING_CURVES_FILE = "training_curves.png"
PLOTS = {CONFUSION_MATRIX_FILE: "Confusion matrix (test set)", TRAINING_CURVES_FILE: "Training curves"}

_VERSION_PATTERN = re.compile(r"\d{8}-\d{6}(-\d+)?")


def active_version(model_dir: Path | str) -> str:
    """The version named in model_dir/ACTIVE; FileNotFoundError when there is none."""
    active_file = Path(model_dir) / ACTIVE_FILE
    try:
        version = active_file.read_text().strip()
    except FileNotFoundError:
        raise FileNotFoundError(
            f"No active model: {active_file} does not exist. Train one with `python manage.py train_model`."
        ) from None
    _check_version(version, model_dir)
    return version


def activate(version: str, model_dir: Path | str) -> None:
    """Make an existing version the one that serves predictions."""
    _check_version(version, model_dir)
    _write_active(version, Path(model_dir))


def read_metadata(version: str, model_dir: Path | str) -> dict:
    """The metadata.json of a version."""
    _check_version(version, model_dir)
    return json.loads((Path(model_dir) / version / METADATA_FILE).read_text())


def list_versions(model_dir: Path | str) -> list[dict]:
    """The metadata of every version, oldest first, each with "active": whether it is the active one."""
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        return []
    try:
        active = active_version(model_dir)
    except (FileNotFoundError, ValueError):
        active = None
    versions = sorted(
        path.name
        for path in model_dir.iterdir()
        if _VERSION_PATTERN.fullmatch(path.name) and (path / METADATA_FILE).is_file()
    )
    return [{**read_metadata(version, model_dir), "active": version == active} for version in versions]


def model_path(version: str, model_dir: Path | str) -> Path:
    """The model.keras file of a version."""
    _check_version(version, model_dir)
    return Path(model_dir) / version / MODEL_FILE


def litert_path(version: str, model_dir: Path | str, precision: str = "float") -> Path:
    """A version's LiteRT export that the predictor serves: "float" (model.tflite) or "int8"."""
    _check_version(version, model_dir)
    if precision not in EXPORTS:
        raise ValueError(f"precision must be one of {tuple(EXPORTS)}, not {precision!r}")
    return Path(model_dir) / version / EXPORTS[precision]


@dataclass(frozen=True)
class Report:
    """What report.json says of a version, as the admin's model versions page shows it."""

    test: dict[str, object]  # accuracy, loss, calibration errors and temperature on the test set
    per_class: list[tuple[str, dict[str, float]]]  # (class name, its precision and recall), in class order
    run: dict[str, object]  # how it was trained: the TrainingConfig, the precision used, the wall time
    plots: list[str]  # the file names of its plots (keys of PLOTS) that exist


def read_report(version: str, model_dir: Path | str) -> Report:
    """The report of a version; empty figures when it has no readable report.json (e.g. one copied
    without it), so that its metadata can still be shown."""
    _check_version(version, model_dir)
    directory = Path(model_dir) / version
    try:
        report = json.loads((directory / REPORT_FILE).read_text())
    except (OSError, ValueError):
        report = {}
    test = report.get("test") or {}
    per_class = test.get("per_class") or {}
    run = {**report.get("config", {})}
    for name in ("precision", "wall_time_s"):  # the precision "auto" chose, and the time the run took
        if name in report:
            run[name] = report[name]
    return Report(
        test=test,
        per_class=[(name, per_class[name]) for name in CLASS_NAMES if name in per_class],
        run=run,
        plots=[name for name in PLOTS if (directory / name).is_file()],
    )


def plot_path(version: str, plot: str, model_dir: Path | str) -> Path:
    """A report plot of a version. ValueError for a name that is no version or no plot (so no path
    leads outside model_dir), FileNotFoundError when the version or its plot is missing."""
    if plot not in PLOTS:
        raise ValueError(f"{plot!r} is not one of the report's plots ({', '.join(PLOTS)})")
    _check_version(version, model_dir)
    path = Path(model_dir) / version / plot
    if not path.is_file():
        raise FileNotFoundError(f"Model version {version} has no {plot}")
    return path


def claim_version(model_dir: Path, base: str) -> str:
    """Create the empty directory of the first free name among base, base-2, base-3, ...

    mkdir is atomic, so two processes publishing in the same second get different names.
    """
    for attempt in itertools.count(1):
        version = base if attempt == 1 else f"{base}-{attempt}"
        try:
            (model_dir / version).mkdir()
        except FileExistsError:
            continue
        return version


def _check_version(version: str, model_dir: Path | str) -> None:
    # The pattern also keeps a version name from pointing outside model_dir.
    if not _VERSION_PATTERN.fullmatch(version):
        raise ValueError(f"{version!r} is not a model version name (YYYYMMDD-HHMMSS)")
    directory = Path(model_dir) / version
    for name in (MODEL_FILE, LITERT_FILE, METADATA_FILE):
        if not (directory / name).is_file():
            raise FileNotFoundError(f"Model version {version} is incomplete: no {directory / name}")


# How many times this process has activated a version (in any directory): a process that caches what
# is active (predictor.get_predictor) checks again at once after one of its own activations.
activations = 0


def _write_active(version: str, model_dir: Path) -> None:
    global activations
    # Written aside and renamed: readers see the old name or the new one, never a partial file.
    fd, temporary = tempfile.mkstemp(prefix=".ACTIVE-", dir=model_dir)
    try:
        with os.fdopen(fd, "w") as stream:
            stream.write(version + "\n")
        os.chmod(temporary, 0o644)  # mkstemp makes it private
        os.replace(temporary, model_dir / ACTIVE_FILE)
        activations += 1
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
