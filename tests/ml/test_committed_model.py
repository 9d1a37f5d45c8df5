"""The served model, on FER2013's full test split, through the code that serves it: the figures its
metadata, the model card and the README quote (accuracy, macro-F1, calibration, band accuracies,
robustness). It is ``mobilenetv2_fer2013_8``, one plan head distilled from the two-head ensemble
``_5`` (within the serving budget of one head, which the ensemble is not), chosen on the validation
split over ``_6``, ``_7`` and ``_4``. Its accuracy (0.6598) is under the 0.70 target of the model work,
so the test holds it to its recorded figures; calibration meets its 0.03 ECE target."""

import json
from pathlib import Path

import numpy as np
import pytest

from ml.calibration import band_report
from ml.datasets import load_split
from ml.evaluate import predict_as_served
from ml.report import compute_metrics
from recognizer.models import find_default_model
from recognizer.pipeline import Recognizer

pytestmark = pytest.mark.slow

MODELS = Path(__file__).resolve().parents[2] / "ml" / "models"
MODEL = MODELS / "mobilenetv2_fer2013_8.tflite"
MACRO_F1_TARGET = 0.62
ECE_TARGET = 0.03


def test_the_service_serves_the_committed_model_by_default() -> None:
    assert find_default_model(MODELS) == MODEL


def test_a_fresh_clone_serves_exactly_the_model_the_pointer_names(tmp_path: Path) -> None:
    from emotune.config import config_from_env
    from emotune.served_model import resolve_model

    assert (MODELS / "SERVED").read_text(encoding="utf-8").strip() == MODEL.name
    config = config_from_env({})
    assert resolve_model({**config, "EMOTUNE_MODEL_PATH": None}) == MODEL
    # Files of other generations beside it change nothing: the pointer decides.
    for name in (MODEL.name, MODEL.with_suffix(".json").name, "SERVED"):
        (tmp_path / name).write_bytes((MODELS / name).read_bytes())
    (tmp_path / "mobilenetv2_fer2013_9.tflite").write_bytes(b"a newer run")
    assert resolve_model({**config, "EMOTUNE_MODELS_DIR": str(tmp_path), "EMOTUNE_MODEL_PATH": None}) == tmp_path / MODEL.name


def test_evaluation_and_serving_share_one_recipe(fer2013_root: Path) -> None:
    """``flask evaluate-model`` and the worker's recognizer give the same probabilities for the same faces."""
    faces = load_split(fer2013_root, "test").images[::120]
    recognizer = Recognizer.from_path(MODEL, num_threads=2)
    evaluated, recipe = predict_as_served(MODEL, faces)
    exponent = json.loads(MODEL.with_suffix(".json").read_text())["serving"]["class_prior"]["exponent"]
    assert recipe == recognizer.recipe and recipe.temperature != 1.0
    assert (recipe.prior is None) == (exponent == 0), "the prior applied is the one validation chose"
    served = recognizer.classify(list(faces))
    np.testing.assert_allclose(served, evaluated, atol=1e-6)


def test_committed_model_reproduces_its_recorded_figures(fer2013_root: Path) -> None:
    test = load_split(fer2013_root, "test")
    recognizer = Recognizer.from_path(MODEL, num_threads=2)
    # the worker's own classify, 64 faces per call as evaluation batches them
    probabilities = np.concatenate([recognizer.classify(list(test.images[i:i + 64])) for i in range(0, len(test), 64)])
    metrics = compute_metrics(test.labels, probabilities)
    recorded = json.loads(MODEL.with_suffix(".json").read_text())["metrics"]["test"]
    exponent = json.loads(MODEL.with_suffix(".json").read_text())["serving"]["class_prior"]["exponent"]
    assert "mirror" in recognizer.recipe.describe()
    assert (f"class prior^{exponent:g}" in recognizer.recipe.describe()) == (exponent > 0)
    assert metrics["accuracy"] == pytest.approx(recorded["accuracy"], abs=5e-4)
    assert metrics["macro_f1"] == pytest.approx(recorded["macro_f1"], abs=5e-4)
    assert metrics["ece"] == pytest.approx(recorded["ece"], abs=5e-4)
    assert metrics["macro_f1"] >= MACRO_F1_TARGET and metrics["ece"] <= ECE_TARGET
    meta = json.loads(MODEL.with_suffix(".json").read_text())
    # One plan head at serving, taught by the two-head ensemble.
    assert "ensemble" not in meta["architecture"]
    assert meta["training"]["distillation"]["teacher"] == {"name": "mobilenetv2_fer2013_5", "heads": 2}
    assert recognizer.recipe.bands is not None
    for band, stored in zip(band_report(recognizer.recipe.bands, probabilities, test.labels), recorded["bands"]):
        assert band["key"] == stored["key"] and band["accuracy"] == pytest.approx(stored["accuracy"], abs=5e-3)
        # what a band's words promise on validation holds on unseen faces, within 5 points
        assert abs(band["accuracy"] - band["validation_accuracy"]) <= 0.05


def test_served_model_reproduces_its_recorded_robustness(fer2013_root: Path) -> None:
    """The robustness table (100 test faces per class, each condition on the native face) as recorded
    by ``python -m benchmarks.robustness --record``, through the worker's recognizer."""
    from benchmarks.robustness import run, sample

    recorded = json.loads(MODEL.with_suffix(".json").read_text())["metrics"]["robustness_test"]
    test = load_split(fer2013_root, "test")
    chosen = sample(test.labels, recorded["per_class"])
    result = run(Recognizer.from_path(MODEL, num_threads=2), test.images[chosen], test.labels[chosen])
    assert result["clean"] == pytest.approx(recorded["clean"], abs=2e-3)
    for name, value in recorded["conditions"].items():
        assert result["conditions"][name] == pytest.approx(value, abs=2e-3), name
