"""Each face in the API carries its confidence band (measured on validation) and a reading that says
when the model is unsure; the words come from the served model's metadata, never from fixed cut-offs."""

from __future__ import annotations

import json
from pathlib import Path

from emotune.api.serialise import face_json
from emotune.models import Face
from recognizer.emotions import EMOTIONS
from recognizer.preprocess import INPUT_SIZE, PREPROCESSING
from tests.conftest import make_app

BANDS = {"bands": [{"key": "sure", "lower": 0.64, "accuracy": 0.854, "count": 1466},
                   {"key": "likely", "lower": 0.52, "accuracy": 0.613, "count": 432},
                   {"key": "unsure", "lower": 0.0, "accuracy": 0.411, "count": 973}]}


def _model(directory: Path, serving: dict[str, object]) -> Path:
    path = directory / "mobilenetv2_test_7.tflite"
    path.with_suffix(".json").write_text(json.dumps({
        "classes": list(EMOTIONS), "input_shape": [INPUT_SIZE, INPUT_SIZE, 3], "preprocessing": PREPROCESSING,
        "serving": serving}))
    return path


def _face(probabilities: list[float]) -> Face:
    face = Face(position=0, box_x=0, box_y=0, box_width=10, box_height=10, is_primary=True,
                emotion=EMOTIONS[max(range(7), key=lambda i: probabilities[i])], confidence=max(probabilities))
    face.set_probabilities(probabilities)
    return face


def test_faces_carry_band_and_reading_from_the_models_metadata(tmp_path: Path) -> None:
    app = make_app(tmp_path / "instance", EMOTUNE_MODEL_PATH=str(_model(tmp_path, {"confidence_bands": BANDS})))
    with app.app_context():
        sure = face_json(_face([0.02, 0.01, 0.02, 0.9, 0.02, 0.02, 0.01]))
        likely = face_json(_face([0.05, 0.01, 0.05, 0.1, 0.15, 0.58, 0.06]))
        unsure = face_json(_face([0.05, 0.0, 0.05, 0.05, 0.35, 0.4, 0.1]))
    assert sure["band"] == {"key": "sure", "label": "sure", "accuracy": 0.854} and sure["reading"] == "happy"
    assert likely["band"]["key"] == "likely" and likely["reading"] == "sad"
    assert unsure["band"] == {"key": "unsure", "label": "not sure", "accuracy": 0.411}
    assert unsure["reading"] == "sad or neutral" and unsure["confidence_label"] == "not sure"


def test_a_model_without_measured_bands_claims_no_words(tmp_path: Path) -> None:
    app = make_app(tmp_path / "instance", EMOTUNE_MODEL_PATH=str(_model(tmp_path, {})))
    with app.app_context():
        face = face_json(_face([0.02, 0.01, 0.02, 0.9, 0.02, 0.02, 0.01]))
    assert face["band"] is None and face["reading"] == "happy"
    assert face["confidence_label"] == "uncalibrated"


def test_the_committed_model_has_bands() -> None:
    from recognizer.models import find_default_model
    from recognizer.recipe import ServingRecipe

    model = find_default_model(Path(__file__).resolve().parents[2] / "ml" / "models")
    assert model is not None
    bands = ServingRecipe.for_model(model).bands
    assert bands is not None and [band.key for band in bands.bands] == ["sure", "likely", "unsure"]
    assert bands.bands[0].accuracy >= 0.85
