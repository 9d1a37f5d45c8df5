"""Fixtures for recognizer tests: an untrained model of the plan's architecture as .h5 and .tflite."""

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from recognizer.emotions import EMOTIONS
from recognizer.preprocess import faces_to_input

from tests.prerequisites import require_fer2013
from tests.recognizer.photos import CLASSES, fer_face

if TYPE_CHECKING:
    import keras


def write_metadata(model_path: Path, **overrides: object) -> Path:
    """Write the ``<stem>.json`` metadata the runtime checks (overrides make it disagree on purpose)."""
    metadata = {"classes": list(EMOTIONS), "input_shape": [224, 224, 3], "preprocessing": "mobilenet_v2"}
    metadata.update(overrides)
    path = model_path.with_suffix(".json")
    path.write_text(json.dumps(metadata), encoding="utf-8")
    return path


@pytest.fixture(scope="session", autouse=True)
def _require_fer2013() -> None:
    require_fer2013()


def calibrate_batch_norm(model: "keras.Model", batch: np.ndarray) -> None:
    """Set every BatchNormalization's moving statistics from ``batch`` (one forward pass).

    With random weights the plan's MobileNetV2 shrinks activations to ~1e-11 by the last block, so
    every image gets exactly 1/7 per class and no comparison of outputs could fail. Statistics from
    real faces keep activations at a normal scale, so different faces give different probabilities.
    """
    import keras

    layers = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    saved = [(layer, layer.trainable, layer.momentum) for layer in layers]
    for layer in layers:
        layer.trainable = True  # frozen BN layers would ignore training=True
        layer.momentum = 0.0  # the moving statistics become this batch's statistics
    model(batch, training=True)
    for layer, trainable, momentum in saved:
        layer.trainable = trainable
        layer.momentum = momentum


def _calibration_faces() -> np.ndarray:
    """FER2013 *train* faces (the tests use test faces) as a model-input batch."""
    faces = [np.asarray(fer_face(index, emotion, split="train")) for emotion in CLASSES for index in range(4)]
    return faces_to_input(faces)


@pytest.fixture(scope="session")
def plan_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The plan's MobileNetV2 (random weights, BN calibrated on faces) as .h5 and .tflite, same weights."""
    import keras

    from ml.export import export_tflite
    from ml.model import build_model

    keras.utils.set_random_seed(1)
    directory = tmp_path_factory.mktemp("models")
    model = build_model(weights=None).model
    calibrate_batch_norm(model, _calibration_faces())
    h5 = directory / "mobilenetv2_test_1.h5"
    model.save(h5)
    tflite = export_tflite(model, directory / "mobilenetv2_test_1.tflite")
    write_metadata(h5)
    write_metadata(tflite)
    return {"h5": h5, "tflite": tflite}
