"""Running the emotion model: LiteRT for serving, Keras as a slower fallback for ``.h5`` files.

This module never imports TensorFlow itself; only the Keras fallback does, lazily, when asked to
load an ``.h5`` model. A model is accepted only if it agrees with its metadata JSON (``<stem>.json``
beside it): the classes and their order, the input shape and the preprocessing.
"""

import hashlib
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, Protocol

import numpy as np

from recognizer.emotions import EMOTIONS
from recognizer.errors import ModelError
from recognizer.preprocess import INPUT_SIZE, PREPROCESSING

log = logging.getLogger(__name__)

INPUT_SHAPE: Final = (INPUT_SIZE, INPUT_SIZE, 3)
DEFAULT_THREADS: Final = 2
THREADS_ENV: Final = "EMOTUNE_LITERT_THREADS"


class Classifier(Protocol):
    """Anything that turns an (N, 224, 224, 3) float32 batch into (N, 7) class probabilities."""

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """Class probabilities for every image of ``batch`` in one call."""
        ...


class LiteRTClassifier:
    """A .tflite model on LiteRT's interpreter (XNNPACK), resized to each batch size it is given."""

    def __init__(self, path: Path, num_threads: int) -> None:
        from ai_edge_litert.interpreter import Interpreter  # keeps `import recognizer` cheap

        try:
            self._interpreter = Interpreter(model_path=str(path), num_threads=num_threads)
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"LiteRT could not load {path}: {exc}") from exc
        inputs = self._interpreter.get_input_details()
        outputs = self._interpreter.get_output_details()
        if len(inputs) != 1 or len(outputs) != 1:
            raise ModelError(f"{path} has {len(inputs)} inputs and {len(outputs)} outputs; expected 1 and 1")
        self._input = inputs[0]["index"]
        self._output = outputs[0]["index"]
        self.input_shape = tuple(int(d) for d in inputs[0]["shape"][1:])
        self.output_classes = int(outputs[0]["shape"][-1])
        self._batch = 0
        self._resize(1)

    def _resize(self, batch: int) -> None:
        if batch != self._batch:
            # Re-planning the graph costs far more than an inference, so only when the size changes.
            self._interpreter.resize_tensor_input(self._input, [batch, *self.input_shape], strict=False)
            self._interpreter.allocate_tensors()
            self._batch = batch

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """Probabilities for all of ``batch`` in a single ``invoke``."""
        self._resize(len(batch))
        self._interpreter.set_tensor(self._input, np.ascontiguousarray(batch, dtype=np.float32))
        self._interpreter.invoke()
        return np.array(self._interpreter.get_tensor(self._output))


class KerasClassifier:
    """A Keras .h5 model called directly (no ``predict`` overhead); several times slower than LiteRT."""

    def __init__(self, path: Path) -> None:
        log.warning("Serving %s with Keras: much slower than LiteRT; export a .tflite for production", path)
        import keras  # lazily: imports TensorFlow, which the LiteRT path never needs

        try:
            self._model: Any = keras.models.load_model(path, compile=False)
        except (OSError, ValueError) as exc:
            raise ModelError(f"Keras could not load {path}: {exc}") from exc
        self.input_shape = tuple(int(d) for d in self._model.input_shape[1:])
        self.output_classes = int(self._model.output_shape[-1])

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """Probabilities for all of ``batch`` in one forward pass."""
        return np.asarray(self._model(np.asarray(batch, dtype=np.float32), training=False))


def read_metadata(model_path: Path) -> dict[str, Any]:
    """Read and check ``<stem>.json`` beside the model; raise ModelError saying what disagrees."""
    meta_path = model_path.with_suffix(".json")
    try:
        metadata = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelError(f"Model metadata {meta_path} is missing; it must sit beside {model_path.name}") from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"Model metadata {meta_path} is unreadable: {exc}") from exc
    if not isinstance(metadata, dict):
        raise ModelError(f"Model metadata {meta_path} must be a JSON object")
    problems = []
    if list(metadata.get("classes", [])) != list(EMOTIONS):
        problems.append(f"classes are {metadata.get('classes')!r}, expected {list(EMOTIONS)!r} in that order")
    if list(metadata.get("input_shape", [])) != list(INPUT_SHAPE):
        problems.append(f"input_shape is {metadata.get('input_shape')!r}, expected {list(INPUT_SHAPE)!r}")
    if metadata.get("preprocessing") != PREPROCESSING:
        problems.append(f"preprocessing is {metadata.get('preprocessing')!r}, expected {PREPROCESSING!r}")
    if problems:
        raise ModelError(f"Model metadata {meta_path} disagrees with this recognizer: " + "; ".join(problems))
    return metadata


def mirror_averaging(serving: Mapping[str, Any]) -> bool:
    """Whether a model's ``serving`` metadata asks for mirror averaging (default: yes)."""
    return bool(serving.get("test_time_flip", True))


def load_classifier(model_path: Path, num_threads: int | None = None) -> Classifier:
    """Load ``.tflite`` with LiteRT or ``.h5``/``.keras`` with Keras, check it, and warm it up once."""
    model_path = Path(model_path)
    if not model_path.is_file():
        raise ModelError(f"Model file {model_path} does not exist; set EMOTUNE_MODEL_PATH or add one to ml/models")
    read_metadata(model_path)
    classifier: LiteRTClassifier | KerasClassifier
    if model_path.suffix == ".tflite":
        classifier = LiteRTClassifier(model_path, num_threads or threads_from_env())
    elif model_path.suffix in (".h5", ".keras"):
        classifier = KerasClassifier(model_path)
    else:
        raise ModelError(f"Unknown model format {model_path.suffix!r}; use .tflite (or .h5 as a fallback)")
    if classifier.input_shape != INPUT_SHAPE or classifier.output_classes != len(EMOTIONS):
        raise ModelError(
            f"{model_path.name} takes {classifier.input_shape} and gives {classifier.output_classes} classes; "
            f"its metadata says {INPUT_SHAPE} and {len(EMOTIONS)}"
        )
    # The first call allocates and plans (XNNPACK packs weights); pay that now, not on a user's photo.
    classifier.predict(np.zeros((1, *INPUT_SHAPE), dtype=np.float32))
    return classifier


def threads_from_env() -> int:
    """LiteRT thread count from EMOTUNE_LITERT_THREADS (default 2, one per core of the target box)."""
    raw = os.environ.get(THREADS_ENV, "").strip()
    if not raw:
        return DEFAULT_THREADS
    try:
        value = int(raw)
    except ValueError as exc:
        raise ModelError(f"{THREADS_ENV}={raw!r} is not a whole number") from exc
    if value < 1:
        raise ModelError(f"{THREADS_ENV} must be at least 1, got {value}")
    return value


def file_version(path: Path) -> str:
    """A short content hash identifying the exact model file (first 12 hex digits of its SHA-256)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:12]
