"""The serving recipe: how a model's outputs become the probabilities EmoTune serves, in one place.

A model file comes with its metadata JSON (``<stem>.json``), whose ``serving`` entry says how the
model is served: mirror averaging (``test_time_flip``, default on), the class-prior correction
(``class_prior``, see :mod:`recognizer.prior`), the temperature that calibrates the probabilities
(``temperature``) and the confidence bands measured on validation (``confidence_bands``, see
:mod:`recognizer.confidence`). :class:`ServingRecipe` reads that entry and applies it; the worker's
pipeline, ``flask evaluate-model``, training's report, ``flask tune-serving`` and the committed-model
test all go through it, so a figure reported is a figure served. The model's version (a hash of the
file) is computed here too.
"""

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

import numpy as np

from recognizer.confidence import ConfidenceBands
from recognizer.emotions import EMOTIONS
from recognizer.errors import ModelError
from recognizer.metadata import read_metadata
from recognizer.preprocess import faces_to_input
from recognizer.prior import PriorCorrection

# A softmax in float32 can underflow to exactly 0; the temperature works on logarithms.
_FLOOR: Final = 1e-12

Predict = Callable[[np.ndarray], np.ndarray]


def file_sha256(path: Path | str) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def model_version(path: Path | str) -> str:
    """A short content hash identifying the exact model file (first 12 hex digits of its SHA-256)."""
    return file_sha256(path)[:12]


def apply_temperature(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(log p / T) per row: T > 1 softens over-confident probabilities; the top class never changes."""
    logits = np.log(np.maximum(np.asarray(probabilities, dtype=np.float64), _FLOOR)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    scaled = np.exp(logits)
    return scaled / scaled.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class ServingRecipe:
    """Every step from face crops to served probabilities, as a model's metadata prescribes."""

    mirror: bool = True
    prior: PriorCorrection | None = None
    temperature: float = 1.0
    bands: ConfidenceBands | None = None

    def __post_init__(self) -> None:
        if not self.temperature > 0:
            raise ModelError(f"The serving temperature must be positive, got {self.temperature!r}")

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any]) -> "ServingRecipe":
        """The recipe of a model's whole metadata dictionary (its ``serving`` entry)."""
        serving = metadata.get("serving", {}) or {}
        temperature = serving.get("temperature")
        return cls(
            mirror=bool(serving.get("test_time_flip", True)),
            prior=PriorCorrection.from_metadata(serving),
            temperature=float(temperature["value"]) if temperature else 1.0,
            bands=ConfidenceBands.from_metadata(serving),
        )

    @classmethod
    def for_model(cls, model_path: Path | str) -> "ServingRecipe":
        """The recipe in the (checked) metadata JSON beside ``model_path``."""
        return cls.from_metadata(read_metadata(model_path))

    def uncorrected(self) -> "ServingRecipe":
        """The same views, no prior, temperature or bands: what the corrections are fitted on."""
        return replace(self, prior=None, temperature=1.0, bands=None)

    def views(self, faces: Sequence[np.ndarray]) -> list[np.ndarray]:
        """The images the model sees for ``faces``: each face, then (mirroring) each face's mirror image."""
        faces = list(faces)
        if not self.mirror:
            return faces
        return [*faces, *(np.ascontiguousarray(face[:, ::-1]) for face in faces)]

    def combine(self, outputs: np.ndarray, count: int) -> np.ndarray:
        """(count, 7) served probabilities from the model's outputs on :meth:`views` of ``count`` faces."""
        outputs = np.asarray(outputs, dtype=np.float64)
        views = len(outputs) // count if count else 1
        averaged = outputs.reshape(views, count, outputs.shape[-1]).mean(axis=0)
        return self.correct(averaged)

    def correct(self, probabilities: np.ndarray) -> np.ndarray:
        """View-averaged probabilities -> class prior -> temperature, each row summing to 1."""
        corrected = np.asarray(probabilities, dtype=np.float64)
        if self.prior is not None:
            corrected = self.prior.apply(corrected)
        if self.temperature != 1.0:
            corrected = apply_temperature(corrected, self.temperature)
        # float32 softmax sums to 1 only within ~1e-7; the API promises a sum of 1
        return corrected / corrected.sum(axis=1, keepdims=True)

    def predict(self, predict: Predict, faces: Sequence[np.ndarray]) -> np.ndarray:
        """(N, 7) served probabilities for N face crops (any size, gray or RGB) in one model call."""
        if len(faces) == 0:
            return np.empty((0, len(EMOTIONS)))
        return self.combine(predict(faces_to_input(self.views(faces))), len(faces))

    def describe(self) -> str:
        """The recipe in words, for report titles."""
        parts = ["original + mirror averaged" if self.mirror else "single pass"]
        if self.prior is not None:
            parts.append(f"class prior^{self.prior.exponent:g}")
        if self.temperature != 1.0:
            parts.append(f"temperature {self.temperature:.4g}")
        return ", ".join(parts)
