"""Confidence bands: words for a face's top probability that match the accuracy measured for them.

A model's metadata (``serving.confidence_bands``, written by training or ``flask tune-serving``)
records, from the validation split, the lowest calibrated top probability of each band and the
share of validation faces in that band the model read right. :meth:`ConfidenceBands.band` maps a
served confidence to its band, so the page says "sure" only where the model has been right at
least ``SURE_ACCURACY`` of the time, and :func:`reading` names the two likeliest emotions when the
band is "unsure" instead of pretending to know.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from recognizer.emotions import EMOTIONS
from recognizer.errors import ModelError

KEYS: Final = ("sure", "likely", "unsure")
# The words the page shows for each band; they complete "The model is ...", so keep them short.
LABELS: Final[Mapping[str, str]] = {"sure": "sure", "likely": "leaning this way", "unsure": "not sure"}
# Accuracy a band must reach on validation to be called "sure", and "likely" (more often right than not).
SURE_ACCURACY: Final = 0.85
LIKELY_ACCURACY: Final = 0.6


@dataclass(frozen=True)
class Band:
    """One confidence band: its key, the page's words, and its measured validation accuracy."""

    key: str
    label: str
    accuracy: float
    lower: float = 0.0
    count: int = 0

    def to_json(self) -> dict[str, Any]:
        """The API's ``band`` object: key, label, accuracy."""
        return {"key": self.key, "label": self.label, "accuracy": round(self.accuracy, 4)}


@dataclass(frozen=True)
class ConfidenceBands:
    """The bands of one model, highest first; the last one starts at 0 and catches everything."""

    bands: tuple[Band, ...]

    def __post_init__(self) -> None:
        lowers = [band.lower for band in self.bands]
        if not self.bands or lowers[-1] != 0 or lowers != sorted(lowers, reverse=True):
            raise ModelError(f"Confidence bands need decreasing lower bounds ending at 0, got {lowers}")
        unknown = {band.key for band in self.bands} - set(KEYS)
        if unknown:
            raise ModelError(f"Unknown confidence band keys {sorted(unknown)}; expected some of {list(KEYS)}")

    def band(self, confidence: float) -> Band:
        """The band of a served (calibrated) top probability."""
        for band in self.bands:
            if confidence >= band.lower:
                return band
        return self.bands[-1]

    @classmethod
    def from_metadata(cls, serving: Mapping[str, Any]) -> "ConfidenceBands | None":
        """The bands in a model's ``serving`` metadata, or None for a model that has none measured."""
        entries = serving.get("confidence_bands")
        if not entries:
            return None
        try:
            # The words are the recognizer's (LABELS), the measurements the model's.
            return cls(tuple(Band(key=e["key"], label=LABELS[e["key"]], accuracy=float(e["accuracy"]),
                                  lower=float(e["lower"]), count=int(e.get("count", 0))) for e in entries["bands"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"serving.confidence_bands is malformed: {exc!r}") from exc

    def to_metadata(self, measured_on: str = "validation split") -> dict[str, Any]:
        """The ``serving.confidence_bands`` entry that :meth:`from_metadata` reads back."""
        return {"measured_on": measured_on, "confidence": "calibrated top-class probability",
                "bands": [{"key": b.key, "lower": round(b.lower, 4),
                           "accuracy": round(b.accuracy, 4), "count": b.count} for b in self.bands]}


def reading(probabilities: Sequence[float], band: Band | None) -> str:
    """What the face shows, in lower case: the top emotion ("happy"), or the top two ("sad or neutral") when unsure."""
    order = sorted(range(len(EMOTIONS)), key=lambda i: probabilities[i], reverse=True)
    if band is not None and band.key == "unsure":
        return f"{EMOTIONS[order[0]]} or {EMOTIONS[order[1]]}".lower()
    return EMOTIONS[order[0]].lower()
