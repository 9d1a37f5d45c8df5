"""Fixtures for recognizer tests: an untrained model of the plan's architecture as .h5 and .tflite."""

import json
from pathlib import Path

import pytest

from recognizer.emotions import EMOTIONS

from tests.recognizer.photos import DATA


def write_metadata(model_path: Path, **overrides: object) -> Path:
    """Write the ``<stem>.json`` metadata the runtime checks (overrides make it disagree on purpose)."""
    metadata = {"classes": list(EMOTIONS), "input_shape": [224, 224, 3], "preprocessing": "mobilenet_v2"}
    metadata.update(overrides)
    path = model_path.with_suffix(".json")
    path.write_text(json.dumps(metadata), encoding="utf-8")
    return path


@pytest.fixture(scope="session", autouse=True)
def _require_fer2013() -> None:
    if not (DATA / "test" / "happy").is_dir():
        pytest.skip(f"FER2013 not found at {DATA}")


@pytest.fixture(scope="session")
def plan_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The plan's MobileNetV2 model (random weights) saved as .h5 and exported as .tflite, same weights."""
    import keras

    from ml.export import export_tflite
    from ml.model import build_model

    keras.utils.set_random_seed(1)
    directory = tmp_path_factory.mktemp("models")
    model = build_model(weights=None).model
    h5 = directory / "mobilenetv2_test_1.h5"
    model.save(h5)
    tflite = export_tflite(model, directory / "mobilenetv2_test_1.tflite")
    write_metadata(h5)
    write_metadata(tflite)
    return {"h5": h5, "tflite": tflite}
