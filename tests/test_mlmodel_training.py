import io
import json
import math
import re
import time
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

from mlmodel import artifacts, cpu, novelty
from mlmodel.batches import batches
from mlmodel.classes import CLASS_NAMES
from mlmodel.evaluation import softmax
from mlmodel.network import build_model, model_logits
from mlmodel.predictor import Predictor, get_predictor
from mlmodel.publishing import publish
from mlmodel.training import PROFILES, TrainingConfig, resolve_precision, train

REPO = Path(__file__).resolve().parents[1]
# Small batches: enough steps in one epoch for BatchNormalization's running statistics to settle.
QUICK = TrainingConfig(epochs=1, subset=2000, batch_size=32)


@pytest.fixture(scope="module")
def dataset(fashion_mnist):
    return fashion_mnist


@pytest.fixture(scope="module")
def quick_run(dataset):
    started = time.perf_counter()
    result = train(QUICK, dataset, verbose=0)
    return result, time.perf_counter() - started


@pytest.fixture(scope="module")
def quick_result(quick_run):
    return quick_run[0]


def test_network_takes_raw_pixels_and_outputs_class_logits():
    model = build_model()
    assert model.input_shape == (None, 28, 28, 1)
    assert model.output_shape == (None, len(CLASS_NAMES))
    assert model.count_params() < 1_000_000  # under 4 MB of float32 weights
    # The 0..255 -> 0..1 rescaling is inside the model, so serving never rescales.
    assert isinstance(model.layers[0], keras.layers.Rescaling)
    assert model.layers[0].scale == pytest.approx(1 / 255)
    # Logits, not probabilities: serving divides them by the fitted temperature first.
    raw = np.random.default_rng(0).integers(0, 256, size=(4, 28, 28, 1)).astype("float32")
    logits = keras.ops.convert_to_numpy(model(raw, training=False))
    assert not np.allclose(logits.sum(axis=1), 1)


def test_profiles_and_precision():
    assert PROFILES["default"] == TrainingConfig()
    assert PROFILES["quick"].epochs < PROFILES["default"].epochs < PROFILES["best"].epochs
    assert PROFILES["quick"].subset < 60000
    assert resolve_precision("float32") == "float32"
    assert resolve_precision("bfloat16") == "bfloat16"
    with pytest.raises(ValueError, match="precision"):
        resolve_precision("float16")


@pytest.mark.parametrize(
    ("flags", "trained_in"),
    [
        ("fpu avx2 fma avx512f avx512_bf16 amx_bf16 amx_tile amx_int8", "bfloat16"),  # Intel Xeon with AMX
        ("fpu avx2 fma avx512f avx512_bf16 avx512_vnni", "float32"),  # bfloat16 instructions, no AMX
        ("fpu avx2 fma avx512f", "float32"),
    ],
)
def test_auto_trains_in_bfloat16_only_where_the_cpu_has_amx(monkeypatch, flags, trained_in):
    monkeypatch.setattr(cpu, "cpu_flags", lambda: frozenset(flags.split()))
    assert resolve_precision("auto") == trained_in


def test_a_short_run_on_a_subset_learns_and_reports(quick_run, dataset):
    quick_result, measured_s = quick_run
    assert quick_result.test_accuracy > 0.6  # chance is 0.1
    assert quick_result.test_loss < math.log(10)  # below the loss of guessing uniformly
    assert 0 < quick_result.wall_time_s <= measured_s  # the run's own time, not more
    assert quick_result.config == QUICK
    assert set(quick_result.history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(quick_result.history["loss"]) == 1

    test = quick_result.test
    assert test.confusion.shape == (10, 10) and test.confusion.sum() == 10000
    assert np.trace(test.confusion) / 10000 == pytest.approx(test.accuracy)
    # The per-class figures are the model's own: what it predicts on the test set.
    predicted = model_logits(quick_result.model, dataset.x_test).argmax(axis=1)
    for index in range(len(CLASS_NAMES)):
        chosen, actual = predicted == index, dataset.y_test == index
        assert test.precision[index] == pytest.approx(np.mean(dataset.y_test[chosen] == index), abs=1e-3)
        assert test.recall[index] == pytest.approx(np.mean(predicted[actual] == index), abs=1e-3)
    # The temperature is fitted on the validation split and makes the test set better calibrated.
    assert test.ece_after < test.ece_before


def test_subsets_are_reproducible_from_the_seed(dataset):
    first = train(TrainingConfig(epochs=1, subset=300, batch_size=64), dataset, verbose=0)
    second = train(TrainingConfig(epochs=1, subset=300, batch_size=64), dataset, verbose=0)
    assert first.history["loss"] == pytest.approx(second.history["loss"], rel=1e-3)


def test_batches_start_no_autotuning_thread_for_an_epoch_to_wait_for(dataset):
    # Freeing an epoch's iterator waited up to 40 s for tf.data's autotuning thread to wake
    # (docs/experiments.md).
    images, labels = dataset.x_train[:64], dataset.y_train[:64]
    for training in (True, False):
        assert batches(images, labels, QUICK, training=training).options().autotune.enabled is False


def test_publish_writes_a_loadable_version_with_metadata(quick_result, dataset, tmp_path):
    version = publish(quick_result, dataset.fingerprint(), tmp_path)
    assert re.fullmatch(r"\d{8}-\d{6}", version)
    assert artifacts.active_version(tmp_path) == version
    assert (tmp_path / "ACTIVE").read_text().strip() == version

    metadata = json.loads((tmp_path / version / "metadata.json").read_text())
    assert metadata == artifacts.read_metadata(version, tmp_path)
    assert metadata["version"] == version
    assert metadata["created_at"].endswith("+00:00")
    assert metadata["test_accuracy"] == quick_result.test_accuracy
    assert metadata["test_loss"] == quick_result.test_loss
    assert metadata["temperature"] == quick_result.temperature
    assert metadata["precision"] in ("bfloat16", "float32")
    assert metadata["parameter_count"] == quick_result.model.count_params()
    assert metadata["data_fingerprint"] == dataset.fingerprint()
    assert (metadata["epochs"], metadata["subset"], metadata["seed"]) == (1, 2000, QUICK.seed)
    assert metadata["dropout"] == QUICK.dropout == 0.1
    assert metadata["wall_time_s"] > 0
    assert metadata["class_names"] == list(CLASS_NAMES)

    loaded = keras.saving.load_model(tmp_path / version / "model.keras", compile=False)
    sample = dataset.x_test[:8].astype("float32")[..., np.newaxis]
    expected = quick_result.model.predict(sample, verbose=0)
    np.testing.assert_allclose(loaded.predict(sample, verbose=0), expected, atol=1e-6)
    # Served: the LiteRT export of the same weights, with the fitted temperature, averaging each image's
    # logits with its mirror image's as the evaluation does.
    served = [result.probabilities for result in get_predictor(tmp_path).classify(dataset.x_test[:8])]
    mirrored = quick_result.model.predict(sample[:, :, ::-1], verbose=0)
    np.testing.assert_allclose(
        served, softmax((expected + mirrored) / 2 / quick_result.temperature), atol=1e-5
    )
    np.testing.assert_allclose(
        model_logits(quick_result.model, dataset.x_test[:8]), (expected + mirrored) / 2, atol=1e-5
    )

    report = json.loads((tmp_path / version / "report.json").read_text())
    assert report["test"]["accuracy"] == metadata["test_accuracy"]
    assert report["test"]["temperature"] == metadata["temperature"]
    assert set(report["test"]["per_class"]) == set(CLASS_NAMES)
    assert report["parameter_count"] == metadata["parameter_count"]
    assert report["history"] == quick_result.history
    for chart in ("confusion_matrix.png", "training_curves.png"):
        with Image.open(tmp_path / version / chart) as image:
            assert image.format == "PNG" and image.width >= 600
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".")]  # no staging leftovers


def test_versions_published_in_the_same_second_get_distinct_names(quick_result, tmp_path):
    names = [publish(quick_result, "f", tmp_path, activate=False) for _ in range(3)]
    assert len(set(names)) == 3
    assert [entry["version"] for entry in artifacts.list_versions(tmp_path)] == sorted(names)


def test_activation_is_explicit_and_checked(quick_result, tmp_path):
    with pytest.raises(FileNotFoundError, match="train_model"):
        artifacts.active_version(tmp_path)
    first = publish(quick_result, "f", tmp_path)
    second = publish(quick_result, "f", tmp_path, activate=False)
    assert artifacts.active_version(tmp_path) == first
    listed = [(entry["version"], entry["active"]) for entry in artifacts.list_versions(tmp_path)]
    assert listed == [(first, True), (second, False)]

    artifacts.activate(second, tmp_path)
    assert artifacts.active_version(tmp_path) == second
    with pytest.raises(FileNotFoundError):
        artifacts.activate("20000101-000000", tmp_path)
    with pytest.raises(ValueError):
        artifacts.activate("../../etc", tmp_path)
    assert artifacts.active_version(tmp_path) == second


def test_train_model_command_publishes_activates_and_reports(tmp_path, fashion_mnist_dir, fashion_mnist):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    model_dir = tmp_path / "models"
    arguments = ["--profile", "quick", "--epochs", "1", "--subset", "2000", "--batch-size", "32"]
    arguments += ["--data-dir", str(fashion_mnist_dir), "--model-dir", str(model_dir)]
    out = io.StringIO()
    call_command("train_model", *arguments, stdout=out, verbosity=0)
    (first,) = [entry["version"] for entry in artifacts.list_versions(model_dir)]
    report = out.getvalue()
    assert first in report
    assert "test accuracy" in report and "ECE" in report and "parameters" in report and "wall time" in report
    assert all(name in report for name in CLASS_NAMES)  # per-class precision and recall
    assert str(model_dir / first) in report
    for name in ("model.keras", "model.tflite", "model-int8.tflite", "report.json", "confusion_matrix.png"):
        assert (model_dir / first / name).is_file()
    assert (model_dir / first / "training_curves.png").is_file()
    # Its int8 export serves, and answers as its float one mostly does.
    int8, exact = (Predictor.load(first, model_dir, precision) for precision in ("int8", "float"))
    assert (int8.precision, exact.precision) == ("int8", "float")
    images = fashion_mnist.x_test[:200]
    agree = [a.label_index == b.label_index for a, b in zip(int8.classify(images), exact.classify(images))]
    assert np.mean(agree) >= 0.95
    assert artifacts.active_version(model_dir) == first
    metadata = artifacts.read_metadata(first, model_dir)
    assert (metadata["epochs"], metadata["subset"], metadata["batch_size"]) == (1, 2000, 32)
    assert metadata["test_accuracy"] > 0.6

    out = io.StringIO()
    call_command("train_model", *arguments, "--no-activate", stdout=out, verbosity=0)
    versions = artifacts.list_versions(model_dir)
    assert len(versions) == 2
    assert artifacts.active_version(model_dir) == first
    assert "active         no" in out.getvalue()

    with pytest.raises(CommandError, match="Fashion-MNIST"):
        call_command("train_model", "--data-dir", str(tmp_path / "missing"), "--model-dir", str(model_dir))


def test_models_say_none_of_the_ten_below_the_threshold_they_were_published_with(tmp_path, fashion_mnist_dir):
    from django.core.management import call_command

    model_dir = tmp_path / "models"
    arguments = ["--profile", "quick", "--epochs", "1", "--subset", "2000", "--batch-size", "32"]
    arguments += ["--data-dir", str(fashion_mnist_dir), "--model-dir", str(model_dir)]
    call_command("train_model", *arguments, verbosity=0)
    (version,) = [entry["version"] for entry in artifacts.list_versions(model_dir)]
    metadata = artifacts.read_metadata(version, model_dir)
    # The shipped photos' tune split (twenty-one: the test settings' CLOTHING_PHOTOS_DIR) is too small for it.
    assert "validation images made to look like phone photos" in metadata["none_of_the_ten_set_on"]
    predictor = Predictor.load(version, model_dir)
    threshold = metadata["none_of_the_ten_below"]
    assert predictor.none_of_the_ten_below == threshold
    noise = np.random.default_rng(0).integers(0, 256, size=(50, 28, 28), dtype=np.uint8)
    for found in predictor.classify(noise):
        assert found.none_of_the_ten is (found.energy < threshold)


def test_the_threshold_flags_the_share_asked_for():
    energies = np.random.default_rng(0).normal(8, 2, size=1001)
    assert np.mean(energies < novelty.threshold(energies)) == pytest.approx(novelty.FLAGGED_SHARE, abs=0.002)
    logits = np.array([[5.0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0.5] * 10])
    # A confident answer has the higher energy; even logits the lower, however large the temperature.
    for temperature in (0.5, 1.0, 2.0):
        confident, even = novelty.energy(logits, temperature)
        assert confident > even


def test_the_adapt_profile_fine_tunes_the_active_model(tmp_path, fashion_mnist_dir):
    from django.core.management import call_command

    model_dir = tmp_path / "models"
    common = ["--data-dir", str(fashion_mnist_dir), "--model-dir", str(model_dir), "--batch-size", "32"]
    call_command(
        "train_model", "--profile", "quick", "--epochs", "2", "--subset", "3000", *common, verbosity=0
    )
    base = artifacts.read_metadata(artifacts.active_version(model_dir), model_dir)["test_accuracy"]
    tiny = ["--epochs", "1", "--subset", "300", "--no-activate", *common]
    call_command("train_model", "--profile", "adapt", *tiny, verbosity=0)
    call_command("train_model", "--profile", "quick", *tiny, verbosity=0)
    by_profile = {
        entry["start_from_active"]: entry["test_accuracy"]
        for entry in artifacts.list_versions(model_dir)
        if entry["subset"] == 300
    }
    # One epoch on 300 images: from scratch that is little; from the active model it keeps most of it.
    assert by_profile[True] >= base - 0.05
    assert by_profile[True] >= by_profile[False] + 0.1


def test_the_wide_profile_trains_a_wider_network_and_fine_tuning_keeps_its_width(tmp_path, fashion_mnist_dir):
    from django.core.management import call_command

    model_dir = tmp_path / "models"
    tiny = ["--epochs", "1", "--subset", "300", "--batch-size", "32"]
    common = ["--data-dir", str(fashion_mnist_dir), "--model-dir", str(model_dir), *tiny]
    call_command("train_model", "--profile", "wide", *common, verbosity=0)
    call_command("train_model", "--profile", "adapt", "--no-activate", *common, verbosity=0)

    def first_filters(entry: dict) -> int:
        model = keras.models.load_model(artifacts.model_path(entry["version"], model_dir), compile=False)
        return next(layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)).filters

    by_profile = {entry["start_from_active"]: entry for entry in artifacts.list_versions(model_dir)}
    assert first_filters(by_profile[False]) == 48  # the shipped network's 32, times 1.5
    assert by_profile[True]["width"] == 1.5 and first_filters(by_profile[True]) == 48
