"""A stand-in model for benchmarks when no trained model is committed yet.

The plan's MobileNetV2 with random weights has exactly the trained model's layers and cost, so
speed and memory figures hold; its predictions mean nothing and are never shown to anyone.
"""

from pathlib import Path

from recognizer.emotions import EMOTIONS
from recognizer.metadata import write_metadata
from recognizer.preprocess import INPUT_SIZE, PREPROCESSING


def write_plan_model(directory: Path) -> Path:
    """Save an untrained plan model as ``mobilenetv2_untrained_0.{h5,tflite,json}``; return the .tflite."""
    import keras

    from ml.export import export_tflite
    from ml.model import build_model

    keras.utils.set_random_seed(0)
    model = build_model(weights=None).model
    directory.mkdir(parents=True, exist_ok=True)
    h5 = directory / "mobilenetv2_untrained_0.h5"
    model.save(h5)
    tflite = export_tflite(model, directory / "mobilenetv2_untrained_0.tflite")
    metadata = {
        "classes": list(EMOTIONS),
        "input_shape": [INPUT_SIZE, INPUT_SIZE, 3],
        "preprocessing": PREPROCESSING,
        "serving": {"test_time_flip": True},
        "note": "untrained stand-in for benchmarks",
    }
    for path in (h5, tflite):
        write_metadata(path, metadata)
    return tflite
