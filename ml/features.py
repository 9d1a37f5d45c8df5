"""Run models over many faces in batches: the frozen part's feature cache and whole-model predictions.

The plan freezes the bottom 70% of MobileNetV2 and its BatchNorm layers run in inference mode, so
that part is a fixed function of the image: it is run once per image (and per augmented view)
through LiteRT, which is several times faster than TensorFlow here, and only the trainable top
runs each epoch.
"""

import hashlib
import json
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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


@dataclass(frozen=True)
class FeatureCache:
    """Frozen-part outputs kept on disk between runs, in a folder named by everything they depend on.

    The key hashes the dataset's fingerprint, the base weights, the frozen depth, the split and the
    augmentation settings, so a change to any of them computes afresh, while a rerun (or a second
    head) with the same ones loads the arrays instead of spending ~25 minutes in the frozen part.
    """

    root: Path
    key: str

    @classmethod
    def for_run(cls, cache_dir: Path | None, settings: dict[str, object]) -> "FeatureCache | None":
        """The cache for these settings under ``cache_dir``; None when caching on disk is off."""
        if cache_dir is None:
            return None
        key = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:16]
        root = Path(cache_dir) / key
        root.mkdir(parents=True, exist_ok=True)
        (root / "settings.json").write_text(json.dumps(settings, indent=1, sort_keys=True, default=str))
        return cls(root, key)

    def path(self, name: str) -> Path:
        """Where the array ``name`` lives."""
        return self.root / f"{name}.npy"

    def backup_dir(self, run: str) -> Path:
        """Where Keras's BackupAndRestore keeps the epoch checkpoints of the run ``run``."""
        return self.root / f"backup-{run}"


def cached(cache: FeatureCache | None, name: str, compute: Callable[[], np.ndarray]) -> np.ndarray:
    """The array ``name`` from ``cache``, computed (and stored) when it is not there yet.

    It is written to a temporary name and renamed, so an interrupted run never leaves half an array
    that a later run would take for a whole one.
    """
    if cache is None:
        return compute()
    path = cache.path(name)
    if path.exists():
        return np.load(path)
    array = compute()
    partial = path.with_suffix(".partial.npy")
    np.save(partial, array)
    partial.replace(path)
    return array
