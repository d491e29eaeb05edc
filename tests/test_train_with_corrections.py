"""`train_model --include-corrections` against the real test node: uploads through the form,
corrections, clearing and deletion through the admin, then a short training run on a small subset.

The uploads are classified by the shipped model, and the run's "before" model is a copy of it, so
the baseline's accuracy on the corrected images is known exactly: it is right on the confirmed
labels and wrong on the changed ones.
"""

import io
import json
import re
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from cassandra import InvalidRequest
from cassandra.cluster import NoHostAvailable
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.urls import reverse
from PIL import Image

from classifier import corrections, reads
from classifier.management.commands import train_model as train_model_command
from classifier.models import Prediction
from mlmodel import artifacts
from mlmodel.classes import CLASS_NAMES
from mlmodel.predictor import Predictor
from mlmodel.preprocessing import open_image, to_model_input

from .helpers import cassandra_db, png_bytes

pytestmark = cassandra_db

# One epoch on 2,000 images in batches of 32: a few seconds, as in the train_model tests.
QUICK = ["--profile", "quick", "--epochs", "1", "--subset", "2000", "--batch-size", "32"]


def image_file(pixels: np.ndarray, image_format: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=image_format)
    return buffer.getvalue()


def product_photo(pixels: np.ndarray) -> bytes:
    """A 112x112 colour photo, dark garment on white: preprocessing has work to do on it."""
    photo = Image.fromarray(255 - pixels).resize((112, 112), Image.Resampling.BICUBIC).convert("RGB")
    buffer = io.BytesIO()
    photo.save(buffer, format="PNG")
    return buffer.getvalue()


def upload(client, files: dict[str, bytes]) -> dict[str, Prediction]:
    """Upload through the form; the stored predictions by filename."""
    uploaded = [SimpleUploadedFile(name, data) for name, data in files.items()]
    response = client.post(reverse("classifier:index"), {"images": uploaded})
    assert response.status_code == 302
    stored = {p.filename: p for p in reads.latest(limit=1000)}
    return {name: stored[name] for name in files}


def correct(client, prediction: Prediction, label: str) -> None:
    """Set (or, with "", clear) the corrected label in the admin, as staff do."""
    change_url = reverse("admin:classifier_prediction_change", args=[prediction.id])
    assert client.post(change_url, {"corrected_label": label, "_continue": "1"}).status_code == 302
    time.sleep(0.01)  # corrected_at has millisecond precision: keep the corrections in order


def delete(client, prediction: Prediction) -> None:
    delete_url = reverse("admin:classifier_prediction_delete", args=[prediction.id])
    assert client.post(delete_url, {"post": "yes"}).status_code == 302
    assert reads.find(prediction.id) is None


def another_label(prediction: Prediction, step: int = 1) -> str:
    return CLASS_NAMES[(prediction.label_index + step) % len(CLASS_NAMES)]


def data_dir_arguments() -> list[str]:
    return ["--data-dir", str(settings.FASHION_MNIST_DIR)] if settings.FASHION_MNIST_DIR else []


@pytest.fixture
def model_dir(tmp_path) -> Path:
    """A model directory whose active version is a copy of the shipped one (which classified the uploads)."""
    shipped = artifacts.active_version(settings.MODEL_DIR)
    directory = tmp_path / "models"
    shutil.copytree(Path(settings.MODEL_DIR) / shipped, directory / shipped)
    artifacts.activate(shipped, directory)
    return directory


def test_corrected_examples_are_the_stored_inputs_with_the_newest_correction(
    staff_client, fashion_mnist, cql_sent
):
    garments = fashion_mnist.x_train[100:105]
    photo = product_photo(garments[1])
    files = {
        "changed.png": image_file(garments[0]),
        "photo.png": photo,
        "cleared.png": image_file(garments[2]),
        "deleted.png": image_file(garments[3]),
        "never.png": image_file(garments[4]),
        # The same pixels as changed.png in another file: one image, corrected twice.
        "again.bmp": image_file(garments[0], "BMP"),
    }
    stored = upload(staff_client, files)
    correct(staff_client, stored["changed.png"], another_label(stored["changed.png"]))
    correct(staff_client, stored["photo.png"], stored["photo.png"].label)  # a confirmation counts too
    correct(staff_client, stored["cleared.png"], "Bag")
    correct(staff_client, stored["deleted.png"], "Bag")
    correct(staff_client, stored["again.bmp"], another_label(stored["again.bmp"], step=2))
    correct(staff_client, stored["cleared.png"], "")
    delete(staff_client, stored["deleted.png"])
    cql_sent.clear()

    examples = corrections.corrected_examples()

    by_source = dict(zip(examples.sources, zip(examples.images, examples.labels)))
    assert set(by_source) == {str(stored["again.bmp"].id), str(stored["photo.png"].id)}
    pixels, label = by_source[str(stored["again.bmp"].id)]
    assert np.array_equal(pixels, garments[0]) and pixels.dtype == np.uint8
    assert CLASS_NAMES[label] == another_label(stored["again.bmp"], step=2)  # the newer correction
    pixels, label = by_source[str(stored["photo.png"].id)]
    # Exactly what the model was given: the preprocessed photo, 0..255, not rescaled.
    assert np.array_equal(pixels, to_model_input(open_image(photo)).pixels)
    assert not np.array_equal(pixels, garments[1])
    assert CLASS_NAMES[label] == stored["photo.png"].label

    # Found through the index, one query per class, none needing ALLOW FILTERING.
    listed = [cql for cql in cql_sent if ".prediction " in cql]
    assert len(listed) == len(CLASS_NAMES)
    assert all(cql.endswith("WHERE corrected_label = ?") for cql in listed)
    assert not [cql for cql in cql_sent if "ALLOW FILTERING" in cql.upper()]


def test_train_model_with_corrections_reports_what_it_used_and_how_accuracy_changed(
    staff_client, fashion_mnist, model_dir
):
    garments = fashion_mnist.x_train[200:205]
    files = {f"garment-{n}.png": image_file(pixels) for n, pixels in enumerate(garments)}
    files["test-image.png"] = png_bytes(fashion_mnist.x_test[0])
    stored = upload(staff_client, files)
    confirmed, changed, cleared, deleted = (
        ["garment-0.png"],
        ["garment-1.png", "garment-2.png", "test-image.png"],
        stored["garment-3.png"],
        stored["garment-4.png"],
    )
    for name in confirmed:
        correct(staff_client, stored[name], stored[name].label)
    for name in changed:
        correct(staff_client, stored[name], another_label(stored[name]))
    correct(staff_client, cleared, "Coat")
    correct(staff_client, deleted, "Coat")
    correct(staff_client, cleared, "")
    delete(staff_client, deleted)
    baseline = artifacts.active_version(model_dir)

    out = io.StringIO()
    arguments = ["--include-corrections", *QUICK, *data_dir_arguments(), "--model-dir", str(model_dir)]
    call_command("train_model", *arguments, stdout=out, verbosity=0)

    printed = out.getvalue()
    new = artifacts.active_version(model_dir)
    assert new != baseline
    report = json.loads((model_dir / new / "report.json").read_text())
    used = report["corrections"]
    # The cleared and the deleted corrections are not used; the uploaded test image is found but
    # stays out of training.
    found = {str(stored[name].id) for name in confirmed + changed}
    assert {example["source"] for example in used["examples"]} == found
    trained_on = {example["source"] for example in used["examples"] if example["trained_on"]}
    assert trained_on == found - {str(stored["test-image.png"].id)}
    assert (used["found"], used["trained_on"], used["left_out_identical_to_test_images"]) == (4, 3, 1)
    assert used["repeats"] == 100  # three corrections: the most copies of each
    assert artifacts.read_metadata(new, model_dir)["corrected_images_trained_on"] == 3
    with override_settings(MODEL_DIR=model_dir):
        versions_page = staff_client.get(reverse("admin:classifier_modelversion_changelist")).text
    new_row = versions_page.split(f'id="version-{new}"', 1)[1].split("</tr>", 1)[0]
    assert "with 3 corrected uploads" in new_row
    assert (
        "corrected upload" not in versions_page.split(f'id="version-{baseline}"', 1)[1].split("</tr>", 1)[0]
    )

    before, after = used["accuracy_before"], used["accuracy_after"]
    assert used["baseline_version"] == baseline
    # The baseline served: the shipped model's published test accuracy, and right only on the
    # confirmed one of the four corrected images.
    published = artifacts.read_metadata(baseline, model_dir)["test_accuracy"]
    assert before["test"] == pytest.approx(published, abs=2e-3)
    assert before["corrected_images"] == 0.25
    assert after["test"] == report["test"]["accuracy"] > 0.6
    # The new model's figure on the corrected images is what it, as served, predicts for them.
    corrected = corrections.corrected_examples()
    served = Predictor.load(new, model_dir).classify(corrected.images)
    predicted = np.array([classification.label_index for classification in served])
    assert after["corrected_images"] == pytest.approx(np.mean(predicted == corrected.labels))

    assert "Found 4 corrected images" in printed
    assert "corrections    3 corrected images used in training (x100), of 4 found" in printed
    assert "1 left out: identical to Fashion-MNIST test images" in printed
    assert f"before (active {baseline}) -> after" in printed
    assert f"test set          {before['test']:.4f} -> {after['test']:.4f}" in printed
    assert f"corrected images  0.2500 -> {after['corrected_images']:.4f}" in printed


def test_include_corrections_without_any_stops_before_training(staff_client, fashion_mnist, model_dir):
    stored = upload(staff_client, {"coat.png": image_file(fashion_mnist.x_train[300])})["coat.png"]
    correct(staff_client, stored, "Shirt")
    correct(staff_client, stored, "")
    versions = artifacts.list_versions(model_dir)

    arguments = ["--include-corrections", *QUICK, "--model-dir", str(model_dir)]
    with pytest.raises(
        CommandError, match="no corrected predictions were found.*Correct labels in the admin"
    ):
        call_command("train_model", *arguments, verbosity=0)
    assert artifacts.list_versions(model_dir) == versions


def test_corrections_that_are_all_test_images_are_refused(staff_client, fashion_mnist, model_dir):
    stored = upload(staff_client, {"test.png": png_bytes(fashion_mnist.x_test[1])})["test.png"]
    correct(staff_client, stored, another_label(stored))
    versions = artifacts.list_versions(model_dir)

    arguments = ["--include-corrections", *QUICK, *data_dir_arguments(), "--model-dir", str(model_dir)]
    with pytest.raises(CommandError, match="identical to Fashion-MNIST test images"):
        call_command("train_model", *arguments, verbosity=0)
    assert artifacts.list_versions(model_dir) == versions


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        (
            NoHostAvailable("Unable to connect to any servers", {}),
            "Cannot read the corrections from Cassandra",
        ),
        (InvalidRequest("Cannot execute this query"), "run `manage.py sync_schema`"),
    ],
)
def test_cassandra_down_or_index_missing_is_a_clear_command_error(failure, message, model_dir, monkeypatch):
    def failing():
        raise failure

    monkeypatch.setattr(train_model_command, "corrected_examples", failing)
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("train_model", "--include-corrections", "--model-dir", str(model_dir), verbosity=0)
