"""Running the emotion model: LiteRT for serving, Keras as a slower fallback for ``.h5`` files.

This module never imports TensorFlow itself; only the Keras fallback does, lazily, when asked to
load an ``.h5`` model. A model is accepted only if it agrees with its metadata JSON (``<stem>.json``
beside it, read by :func:`recognizer.metadata.read_metadata`): the classes and their order, the input
shape and the preprocessing. The thread count is a parameter: the app's configuration decides it.
"""

import logging
from pathlib import Path
from typing import Any, Final, Protocol

import numpy as np

from recognizer.emotions import EMOTIONS
from recognizer.errors import ModelError
from recognizer.metadata import INPUT_SHAPE, read_metadata

log = logging.getLogger(__name__)

# LiteRT runs a batch this many images at a time (one face and its mirror image): a view of 7 faces
# costs 6.2 ms of CPU in chunks of 2 against 7.3 ms in one batch of 14 (one thread; 6.5 against 6.9
# with two), and every change of batch size re-plans the graph (3-4 ms), so fixed small chunks are
# cheaper than one call per photo.
CHUNK: Final = 2


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
        """Probabilities for all of ``batch``, ``CHUNK`` images per ``invoke``."""
        batch = np.asarray(batch, dtype=np.float32)
        outputs = []
        for start in range(0, len(batch), CHUNK):
            chunk = batch[start : start + CHUNK]
            self._resize(len(chunk))
            self._interpreter.set_tensor(self._input, np.ascontiguousarray(chunk))
            self._interpreter.invoke()
            outputs.append(np.array(self._interpreter.get_tensor(self._output)))
        return np.concatenate(outputs) if outputs else np.empty((0, self.output_classes), np.float32)


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


def load_classifier(model_path: Path, num_threads: int) -> Classifier:
    """Load ``.tflite`` with LiteRT (on ``num_threads`` CPU threads) or ``.h5``/``.keras`` with Keras,
    check it against its metadata, and warm it up once."""
    model_path = Path(model_path)
    if not model_path.is_file():
        raise ModelError(f"Model file {model_path} does not exist; set EMOTUNE_MODEL_PATH or add one to ml/models")
    read_metadata(model_path)
    classifier: LiteRTClassifier | KerasClassifier
    if model_path.suffix == ".tflite":
        classifier = LiteRTClassifier(model_path, num_threads)
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
