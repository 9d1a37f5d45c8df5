"""Run models over many faces in batches: the frozen part's feature cache and whole-model predictions.

The plan freezes the bottom 70% of MobileNetV2 and its BatchNorm layers run in inference mode, so
that part is a fixed function of the image: it is run once per image (and per augmented view)
through LiteRT, which is several times faster than TensorFlow here, and only the trainable top
runs each epoch.
"""

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import keras
import numpy as np
from tqdm import tqdm

from recognizer.preprocess import faces_to_input
from recognizer.runtime import LiteRTClassifier

from ml.export import export_tflite

BATCH = 64


def batches(count: int, size: int = BATCH) -> Iterator[slice]:
    """Consecutive slices covering ``range(count)``."""
    for start in range(0, count, size):
        yield slice(start, min(start + size, count))


def run_on_faces(run: Callable[[np.ndarray], np.ndarray], faces: np.ndarray, out_dtype: type = np.float32,
                 label: str | None = None) -> np.ndarray:
    """Apply ``run`` to all (N, 48, 48) faces, preprocessed as in serving, batch by batch."""
    first = run(faces_to_input(faces[:1]))
    result = np.empty((len(faces), *first.shape[1:]), dtype=out_dtype)
    for part in tqdm(list(batches(len(faces))), desc=label, unit="batch", disable=label is None, mininterval=5):
        result[part] = run(faces_to_input(faces[part]))
    return result


class FrozenFeatures:
    """The frozen part of a plan model, exported once to LiteRT for fast repeated use."""

    def __init__(self, frozen_part: keras.Model, threads: int = 2) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="emotune-frozen-")
        path = export_tflite(frozen_part, Path(self._tmp.name) / "frozen.tflite")
        self.runner = LiteRTClassifier(path, threads).predict

    def compute(self, faces: np.ndarray, label: str | None = None) -> np.ndarray:
        """Frozen-part outputs for (N, 48, 48) faces, stored as float16 to halve the cache's memory."""
        return run_on_faces(self.runner, faces, out_dtype=np.float16, label=label)

    def close(self) -> None:
        """Delete the temporary export."""
        self._tmp.cleanup()
