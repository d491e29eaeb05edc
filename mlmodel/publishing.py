"""Publishing a trained model as a new version: its model, LiteRT export, metadata and report.

Written under a hidden name, then renamed over the version's claimed empty directory, so no reader
(the site, listing or activating versions) ever sees half a version. The layout is mlmodel/artifacts.py's.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from datetime import UTC, datetime
from importlib.metadata import version as package_version
from pathlib import Path
from typing import TYPE_CHECKING

from mlmodel import artifacts, litert, photo_detector, report
from mlmodel.classes import CLASS_NAMES

if TYPE_CHECKING:  # annotations only; neither module imports this one
    from mlmodel.feedback import FeedbackReport
    from mlmodel.training import TrainingResult


def publish(
    result: TrainingResult,
    dataset_fingerprint: str,
    model_dir: Path | str,
    *,
    feedback: FeedbackReport | None = None,
    activate: bool = True,
) -> str:
    """Save a trained model, its LiteRT exports (float, int8), metadata and report as a new version;
    return its name.

    `feedback` is what a run with corrections used and how accuracy changed (mlmodel.feedback); it
    goes into the report.
    """
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    created_at = datetime.now(UTC)
    version = artifacts.claim_version(model_dir, created_at.strftime("%Y%m%d-%H%M%S"))
    rule = result.none_of_the_ten
    metadata = {
        "version": version,
        "created_at": created_at.isoformat(timespec="seconds"),
        "test_accuracy": result.test_accuracy,
        "test_loss": result.test_loss,
        "temperature": result.temperature,  # served probabilities are softmax(logits / temperature)
        # mlmodel.novelty: an energy or a familiarity below these says "probably none of the ten classes"
        "none_of_the_ten_below": rule.energy_below,
        "familiarity_below": rule.familiarity_below,
        "none_of_the_ten_set_on": rule.set_on,
        "parameter_count": result.model.count_params(),
        "data_fingerprint": dataset_fingerprint,
        **dataclasses.asdict(result.config),
        "precision": result.precision,
        "wall_time_s": round(result.wall_time_s, 1),
        "corrected_images_trained_on": result.extra_examples,  # train_model --include-corrections
        "weights_from": result.weights_from,  # train_model --refit-none-of-the-ten
        "keras_version": package_version("keras"),
        "class_names": list(CLASS_NAMES),
    }

    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=model_dir))
    try:
        staging.chmod(0o755)  # mkdtemp makes it private; a web server may run as another user
        result.model.save(staging / artifacts.MODEL_FILE)
        litert.export(result.model, result.temperature, staging / artifacts.LITERT_FILE, rule.detector)
        litert.export_int8(
            result.model,
            result.temperature,
            staging / artifacts.INT8_LITERT_FILE,
            result.int8_calibration,
            rule.detector,
        )
        if rule.detector is not None:
            photo_detector.save(rule.detector, staging / artifacts.DETECTOR_FILE)
        report.write_report(result, staging, feedback)
        (staging / artifacts.METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n")
        os.replace(staging, model_dir / version)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        (model_dir / version).rmdir()
        raise

    if activate:
        artifacts.activate(version, model_dir)
    return version
