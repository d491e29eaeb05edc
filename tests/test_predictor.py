import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from mlmodel import artifacts, cpu
from mlmodel.classes import CLASS_NAMES
from mlmodel.evaluation import softmax
from mlmodel.predictor import Classification, Predictor, get_predictor

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def dataset(fashion_mnist):
    return fashion_mnist


@pytest.fixture
def two_version_dir(tmp_path):
    """A model directory holding the shipped model twice, under two version names, neither active."""
    shipped = artifacts.active_version(artifacts.DEFAULT_MODEL_DIR)
    versions = ["20250101-000000", "20250102-000000"]
    for version in versions:
        shutil.copytree(artifacts.DEFAULT_MODEL_DIR / shipped, tmp_path / version)
    return tmp_path, versions


def test_exactly_one_model_ships_and_it_is_active_small_and_accurate(dataset):
    (shipped,) = artifacts.list_versions(artifacts.DEFAULT_MODEL_DIR)
    assert shipped["active"]
    assert shipped["test_accuracy"] >= 0.90
    assert shipped["data_fingerprint"] == dataset.fingerprint()
    assert shipped["subset"] is None
    shipped_dir = artifacts.DEFAULT_MODEL_DIR / shipped["version"]
    for model_file in ("model.keras", "model.tflite", "model-int8.tflite"):
        assert (shipped_dir / model_file).stat().st_size <= 5 * 1024 * 1024
    for report_file in ("report.json", "confusion_matrix.png", "training_curves.png"):
        assert (shipped_dir / report_file).is_file()
    assert get_predictor().version == shipped["version"]


def test_shipped_model_classifies_real_test_images(dataset):
    images, labels = dataset.x_test[:500], dataset.y_test[:500]
    results = get_predictor().classify(images)
    assert len(results) == 500
    assert all(isinstance(result, Classification) for result in results)
    accuracy = np.mean([result.label_index for result in results] == labels)
    assert accuracy >= 0.9
    for result in results:
        assert len(result.probabilities) == len(CLASS_NAMES)
        assert sum(result.probabilities) == pytest.approx(1, abs=1e-9)
        assert result.confidence == max(result.probabilities)
        assert result.probabilities[result.label_index] == result.confidence
        assert result.label == CLASS_NAMES[result.label_index]


def test_a_batch_gives_the_same_answers_as_one_by_one(dataset):
    predictor = get_predictor()
    images = dataset.x_test[500:532]
    batched = predictor.classify(images)
    for image, together in zip(images, batched):
        (alone,) = predictor.classify(image[np.newaxis])
        assert alone.label_index == together.label_index
        np.testing.assert_allclose(alone.probabilities, together.probabilities, atol=1e-5)


def test_concurrent_classification_matches_sequential(dataset):
    predictor = get_predictor()
    batches = [dataset.x_test[i : i + 16] for i in range(0, 128, 16)]
    sequential = [[r.label_index for r in predictor.classify(batch)] for batch in batches]
    with ThreadPoolExecutor(max_workers=4) as pool:
        concurrent = list(pool.map(lambda batch: [r.label_index for r in predictor.classify(batch)], batches))
    assert concurrent == sequential


def test_served_probabilities_are_kerass_with_the_fitted_temperature(dataset):
    import keras

    predictor = get_predictor()
    model = keras.saving.load_model(artifacts.model_path(predictor.version, artifacts.DEFAULT_MODEL_DIR))
    temperature = artifacts.read_metadata(predictor.version, artifacts.DEFAULT_MODEL_DIR)["temperature"]
    images = dataset.x_test[:256]
    # Served as trained: each image's logits averaged with its mirror image's.
    plain = model.predict(images.astype(np.float32)[..., np.newaxis], verbose=0)
    mirrored = model.predict(images[:, :, ::-1].astype(np.float32)[..., np.newaxis], verbose=0)
    logits = (plain + mirrored) / 2
    served = np.array([result.probabilities for result in predictor.classify(images)])
    np.testing.assert_allclose(served, softmax(logits / temperature), atol=1e-5)
    assert temperature != pytest.approx(1, abs=0.01)  # so the line above tells it was applied


def test_a_second_look_gives_the_mean_logits_and_leaves_the_other_images_alone(dataset):
    predictor = get_predictor()
    images, others = dataset.x_test[:3], dataset.x_test[3:6]
    alone = predictor.classify(images)
    looks = predictor.classify(others)
    both = predictor.classify(images, [others[0], None, others[2]])
    for index in (0, 2):  # the softmax of mean logits: the normalised geometric mean
        mean = np.sqrt(np.array(alone[index].probabilities) * looks[index].probabilities)
        np.testing.assert_allclose(both[index].probabilities, mean / mean.sum(), atol=1e-9)
        assert both[index].label_index == int(np.argmax(mean))
        # The none-of-the-ten scores are the first look's: their thresholds were fitted on such.
        assert both[index].energy == alone[index].energy
        assert both[index].familiarity == alone[index].familiarity
    assert both[1] == alone[1]
    with pytest.raises(ValueError, match="2 second looks for 3 images"):
        predictor.classify(images, [None, None])


def test_concurrent_batches_of_different_sizes_match_sequential(dataset):
    predictor = get_predictor()
    sizes = [1, 7, 1, 64, 3, 1, 32, 2] * 3
    starts = np.cumsum([0, *sizes[:-1]])
    batches = [dataset.x_test[start : start + size] for start, size in zip(starts, sizes)]

    def probabilities(batch):
        return [result.probabilities for result in predictor.classify(batch)]

    sequential = [probabilities(batch) for batch in batches]
    with ThreadPoolExecutor(max_workers=6) as pool:
        concurrent = list(pool.map(probabilities, batches))
    for alone, together in zip(sequential, concurrent):
        np.testing.assert_allclose(together, alone, atol=1e-6)


def test_serving_needs_no_tensorflow():
    # A web worker that loads TensorFlow costs about 0.5 GB; the LiteRT runtime far less.
    script = (
        "import sys, numpy as np; from mlmodel.predictor import get_predictor; "
        "get_predictor().classify(np.zeros((2, 28, 28), np.uint8)); "
        "print(sorted({'tensorflow', 'keras'} & set(sys.modules)))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip().splitlines()[-1] == "[]"


def test_input_that_is_not_a_batch_of_28x28_uint8_images_is_refused(dataset):
    predictor = get_predictor()
    assert predictor.classify(np.zeros((0, 28, 28), dtype=np.uint8)) == []
    for wrong in (dataset.x_test[0], dataset.x_test[:2].astype(np.float32), np.zeros((1, 32, 32), np.uint8)):
        with pytest.raises(ValueError, match="28, 28"):
            predictor.classify(wrong)


def test_a_newly_activated_version_is_picked_up_without_a_restart(two_version_dir):
    model_dir, (first, second) = two_version_dir
    with pytest.raises(FileNotFoundError):
        get_predictor(model_dir)

    artifacts.activate(first, model_dir)
    predictor = get_predictor(model_dir)
    assert predictor.version == first
    assert get_predictor(str(model_dir)) is predictor  # cached, whatever the path's type

    artifacts.activate(second, model_dir)
    reloaded = get_predictor(model_dir)
    assert reloaded.version == second
    assert reloaded is not predictor
    assert get_predictor(model_dir) is reloaded
    assert get_predictor() is not reloaded  # each model directory has its own predictor


def test_concurrent_first_calls_load_the_model_once(two_version_dir):
    model_dir, (first, _) = two_version_dir
    artifacts.activate(first, model_dir)
    with ThreadPoolExecutor(max_workers=6) as pool:
        predictors = list(pool.map(lambda _: get_predictor(model_dir), range(6)))
    assert all(predictor is predictors[0] for predictor in predictors)


def test_the_int8_export_answers_as_the_float_one_does(dataset):
    version = artifacts.active_version(artifacts.DEFAULT_MODEL_DIR)
    exports = {
        precision: Predictor.load(version, artifacts.DEFAULT_MODEL_DIR, precision)
        for precision in ("float", "int8")
    }
    assert {name: predictor.precision for name, predictor in exports.items()} == {
        "float": "float",
        "int8": "int8",
    }
    images, labels = dataset.x_test[:2000], dataset.y_test[:2000]
    answers = {name: predictor.classify(images) for name, predictor in exports.items()}
    labels_of = {
        name: np.array([found.label_index for found in found_all]) for name, found_all in answers.items()
    }
    assert np.mean(labels_of["int8"] == labels_of["float"]) >= 0.99
    assert abs(np.mean(labels_of["int8"] == labels) - np.mean(labels_of["float"] == labels)) <= 0.005
    for quantised, exact in zip(answers["int8"], answers["float"]):
        assert sum(quantised.probabilities) == pytest.approx(1, abs=1e-9)
        assert quantised.energy == pytest.approx(exact.energy, abs=1.5)  # the scores, in the same order
        assert quantised.familiarity == pytest.approx(exact.familiarity, abs=3)
    flags = [[found.none_of_the_ten for found in found_all] for found_all in answers.values()]
    assert np.mean(np.equal(*flags)) >= 0.99


@pytest.mark.parametrize(("fast_int8", "served"), [(True, "int8"), (False, "float")])
def test_auto_serves_int8_only_where_the_cpu_multiplies_int8_fast(monkeypatch, fast_int8, served):
    monkeypatch.setattr(cpu, "has_int8_dot_products", lambda: fast_int8)
    version = artifacts.active_version(artifacts.DEFAULT_MODEL_DIR)
    assert Predictor.load(version, artifacts.DEFAULT_MODEL_DIR, "auto").precision == served
    assert Predictor.load(version, artifacts.DEFAULT_MODEL_DIR, "int8").precision == "int8"
    assert Predictor.load(version, artifacts.DEFAULT_MODEL_DIR, "float").precision == "float"


@pytest.mark.parametrize(
    ("flags", "fast_int8"),
    [
        ("fpu avx2 fma amx_bf16 amx_tile amx_int8", True),  # an Intel Xeon with AMX
        ("fpu avx2 fma avx512f avx512_vnni avx512_bf16", True),  # one without AMX
        ("fpu avx2 fma avx_vnni", True),  # VNNI on 256-bit registers
        ("fpu avx2 fma avx512f", False),
    ],
)
def test_int8_counts_as_fast_where_the_cpu_has_int8_dot_products(monkeypatch, flags, fast_int8):
    monkeypatch.setattr(cpu, "cpu_flags", lambda: frozenset(flags.split()))
    assert cpu.has_int8_dot_products() is fast_int8


def test_a_version_without_an_int8_export_is_served_in_float(two_version_dir, monkeypatch):
    monkeypatch.setattr(cpu, "has_int8_dot_products", lambda: True)
    model_dir, (first, _) = two_version_dir
    (model_dir / first / artifacts.INT8_LITERT_FILE).unlink()
    artifacts.activate(first, model_dir)
    assert get_predictor(model_dir, "int8").precision == "float"
    assert get_predictor(model_dir, "auto").precision == "float"
    with pytest.raises(ValueError, match="precision"):
        get_predictor(model_dir, "int4")


def test_each_precision_has_its_own_predictor(two_version_dir):
    model_dir, (first, _) = two_version_dir
    artifacts.activate(first, model_dir)
    assert get_predictor(model_dir, "int8") is get_predictor(model_dir, "int8")
    assert get_predictor(model_dir, "int8").precision == "int8"
    assert get_predictor(model_dir).precision == "float"
