"""The committed model, evaluated as served on FER2013's test split: the figures its metadata, the
model card and the README quote. Its accuracy (0.6779) is still under the 0.68 target (issue #3),
so the test holds it to its recorded figures; macro-F1 meets its 0.62 target."""

import json
from pathlib import Path

import pytest

from ml.datasets import load_split
from ml.evaluate import predict_as_served
from ml.report import compute_metrics
from recognizer.models import find_default_model

pytestmark = pytest.mark.slow

MODELS = Path(__file__).resolve().parents[2] / "ml" / "models"
MODEL = MODELS / "mobilenetv2_fer2013_1.tflite"
MACRO_F1_TARGET = 0.62


def test_the_service_serves_the_committed_model_by_default() -> None:
    assert find_default_model(MODELS) == MODEL


def test_committed_model_reproduces_its_recorded_figures(fer2013_root: Path) -> None:
    test = load_split(fer2013_root, "test")
    probabilities, how = predict_as_served(MODEL, test.images)
    metrics = compute_metrics(test.labels, probabilities)
    recorded = json.loads(MODEL.with_suffix(".json").read_text())["metrics"]["test"]
    assert "mirror" in how and "class prior^0.5" in how
    assert metrics["accuracy"] == pytest.approx(recorded["accuracy"], abs=5e-4)
    assert metrics["macro_f1"] == pytest.approx(recorded["macro_f1"], abs=5e-4)
    assert metrics["macro_f1"] >= MACRO_F1_TARGET, how
