"""Versioned model artifacts on disk.

Layout of a model directory::

    <model_dir>/<version>/model.keras      the trained Keras model
    <model_dir>/<version>/model.tflite     its LiteRT export, which serving runs
    <model_dir>/<version>/metadata.json
    <model_dir>/<version>/report.json, confusion_matrix.png, training_curves.png
    <model_dir>/ACTIVE          the version that serves predictions

A version is the UTC time of publication, "YYYYMMDD-HHMMSS", with "-2", "-3", ...
appended when that second is taken already.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import re
import shutil
import tempfile
from datetime import UTC, datetime
from importlib.metadata import version as package_version
from pathlib import Path
from typing import TYPE_CHECKING

from mlmodel.classes import CLASS_NAMES

if TYPE_CHECKING:
    # Only for the annotation: listing and activating versions must not load TensorFlow.
    from mlmodel.training import TrainingResult

DEFAULT_MODEL_DIR: Path = Path(__file__).parent / "artifacts"
MODEL_FILE = "model.keras"
LITERT_FILE = "model.tflite"
METADATA_FILE = "metadata.json"
ACTIVE_FILE = "ACTIVE"

_VERSION_PATTERN = re.compile(r"\d{8}-\d{6}(-\d+)?")


def publish(
    result: TrainingResult, dataset_fingerprint: str, model_dir: Path | str, *, activate: bool = True
) -> str:
    """Save a trained model, its LiteRT export, metadata and report as a new version; return its name."""
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    created_at = datetime.now(UTC)
    version = _claim_version_name(model_dir, created_at.strftime("%Y%m%d-%H%M%S"))
    metadata = {
        "version": version,
        "created_at": created_at.isoformat(timespec="seconds"),
        "test_accuracy": result.test_accuracy,
        "test_loss": result.test_loss,
        "temperature": result.temperature,  # served probabilities are softmax(logits / temperature)
        # mlmodel.novelty: an energy below this says "probably none of the ten classes"
        "none_of_the_ten_below": result.none_of_the_ten_below,
        "none_of_the_ten_set_on": result.none_of_the_ten_set_on,
        "parameter_count": result.model.count_params(),
        "data_fingerprint": dataset_fingerprint,
        **dataclasses.asdict(result.config),
        "precision": result.precision,
        "wall_time_s": round(result.wall_time_s, 1),
        "corrected_images_trained_on": result.extra_examples,  # train_model --include-corrections
        "keras_version": package_version("keras"),
        "class_names": list(CLASS_NAMES),
    }

    # Imported here: serving, listing and activating versions load neither TensorFlow nor matplotlib.
    from mlmodel import litert, report

    # Written under a hidden name, then renamed over the claimed empty directory,
    # so no reader ever sees half a version.
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=model_dir))
    try:
        staging.chmod(0o755)  # mkdtemp makes it private; a web server may run as another user
        result.model.save(staging / MODEL_FILE)
        litert.export(result.model, result.temperature, staging / LITERT_FILE)
        report.write_report(result, staging)
        (staging / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n")
        os.replace(staging, model_dir / version)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        (model_dir / version).rmdir()
        raise

    if activate:
        _write_active(version, model_dir)
    return version


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


def litert_path(version: str, model_dir: Path | str) -> Path:
    """The model.tflite file of a version: what the predictor serves."""
    _check_version(version, model_dir)
    return Path(model_dir) / version / LITERT_FILE


def _check_version(version: str, model_dir: Path | str) -> None:
    # The pattern also keeps a version name from pointing outside model_dir.
    if not _VERSION_PATTERN.fullmatch(version):
        raise ValueError(f"{version!r} is not a model version name (YYYYMMDD-HHMMSS)")
    directory = Path(model_dir) / version
    for name in (MODEL_FILE, LITERT_FILE, METADATA_FILE):
        if not (directory / name).is_file():
            raise FileNotFoundError(f"Model version {version} is incomplete: no {directory / name}")


def _claim_version_name(model_dir: Path, base: str) -> str:
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


def _write_active(version: str, model_dir: Path) -> None:
    # Written aside and renamed: readers see the old name or the new one, never a partial file.
    fd, temporary = tempfile.mkstemp(prefix=".ACTIVE-", dir=model_dir)
    try:
        with os.fdopen(fd, "w") as stream:
            stream.write(version + "\n")
        os.chmod(temporary, 0o644)  # mkstemp makes it private
        os.replace(temporary, model_dir / ACTIVE_FILE)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
