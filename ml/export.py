"""Serving export: the trained Keras model as a float32 LiteRT (.tflite) flatbuffer."""

import tempfile
from pathlib import Path

import keras


def export_tflite(model: keras.Model, path: Path | str) -> Path:
    """Write the float32 LiteRT export of ``model`` (dynamic batch size) to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Keras writes through a temporary name so a failed conversion never leaves a half file.
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        staged = Path(tmp) / path.name
        model.export(str(staged), format="litert", verbose=False)
        staged.replace(path)
    return path
