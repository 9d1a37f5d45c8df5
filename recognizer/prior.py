"""Restoring the class prior that class-weighted training takes out of a model's probabilities.

The plan trains with scikit-learn's "balanced" class weights, w_c proportional to 1 / n_c. A
classifier trained with a weighted cross-entropy learns q(c|x) proportional to w_c p(c|x): its
probabilities favour rare classes (Disgust's weight is 9.4, Happy's 0.57). Multiplying them by the
training class shares raised to an exponent and renormalising gives q(c|x) n_c^exponent: exponent
1 undoes the weighting exactly, 0 leaves the model's output as it is. The exponent is chosen on the
validation split (``ml.serving``) and stored in the model's metadata, so serving and evaluation
apply the same correction.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from recognizer.emotions import EMOTIONS
from recognizer.errors import ModelError


@dataclass(frozen=True)
class PriorCorrection:
    """Training class shares (EMOTIONS order) and the exponent with which they re-weight probabilities."""

    prior: tuple[float, ...]
    exponent: float

    def __post_init__(self) -> None:
        if len(self.prior) != len(EMOTIONS) or min(self.prior) <= 0:
            raise ModelError(f"A class prior needs {len(EMOTIONS)} positive shares, got {self.prior!r}")
        if not 0 <= self.exponent <= 1:
            raise ModelError(f"The prior exponent must be between 0 and 1, got {self.exponent!r}")

    @classmethod
    def from_counts(cls, counts: Mapping[str, int], exponent: float) -> "PriorCorrection":
        """The correction for a training set with ``counts`` images per class name."""
        values = np.array([counts[name] for name in EMOTIONS], dtype=np.float64)
        return cls(tuple(float(v) for v in values / values.sum()), exponent)

    @classmethod
    def from_metadata(cls, serving: Mapping[str, Any]) -> "PriorCorrection | None":
        """The correction a model's ``serving`` metadata asks for, or None (older models, exponent 0)."""
        entry = serving.get("class_prior")
        if not entry or float(entry.get("exponent", 0)) == 0:
            return None
        shares = entry.get("shares", {})
        if set(shares) != set(EMOTIONS):
            raise ModelError(f"serving.class_prior.shares must name the classes {list(EMOTIONS)}, got {sorted(shares)}")
        return cls(tuple(float(shares[name]) for name in EMOTIONS), float(entry["exponent"]))

    def to_metadata(self) -> dict[str, Any]:
        """The ``serving.class_prior`` entry that :meth:`from_metadata` reads back."""
        return {"exponent": self.exponent, "shares": {name: round(share, 6) for name, share in zip(EMOTIONS, self.prior)}}

    def apply(self, probabilities: np.ndarray) -> np.ndarray:
        """(N, 7) probabilities re-weighted by the prior and renormalised to sum to 1 per row."""
        weighted = np.asarray(probabilities, dtype=np.float64) * np.power(self.prior, self.exponent)
        return weighted / weighted.sum(axis=1, keepdims=True)
