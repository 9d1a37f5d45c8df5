"""Calibration: how far confidence is from accuracy (ECE), the temperature that closes the gap, the bands.

All fitting here is done on the validation split (``ml.serving`` passes it in), never on the test
split; the test split only reports. The temperature is applied by
:func:`recognizer.recipe.apply_temperature`, the bands are read by :mod:`recognizer.confidence`, so
what is fitted here is what serving does.
"""

from typing import Any, Final

import numpy as np
from scipy.optimize import minimize_scalar

from recognizer.confidence import KEYS, LABELS, LIKELY_ACCURACY, SURE_ACCURACY, Band, ConfidenceBands
from recognizer.recipe import apply_temperature

BINS: Final = 15
# Temperatures searched (log-uniformly, bounded): far wider than any sane softmax needs.
T_RANGE: Final = (0.05, 20.0)
# Candidate lower bounds of the bands, and the fewest validation faces a band may rest on.
THRESHOLDS: Final = tuple(round(float(t), 2) for t in np.arange(0.30, 0.99, 0.01))
MIN_BAND_COUNT: Final = 100


def reliability(labels: np.ndarray, probabilities: np.ndarray, bins: int = BINS) -> list[dict[str, float]]:
    """Per equal-width bin of top-class confidence: its range, count, mean confidence and accuracy."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    # right-closed bins, as the usual ECE definition: (l, u]; a confidence of exactly 0 cannot occur
    index = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, bins - 1)
    rows = []
    for b in range(bins):
        mask = index == b
        count = int(mask.sum())
        rows.append({"lower": float(edges[b]), "upper": float(edges[b + 1]), "count": count,
                     "confidence": float(confidence[mask].mean()) if count else 0.0,
                     "accuracy": float(correct[mask].mean()) if count else 0.0})
    return rows


def expected_calibration_error(labels: np.ndarray, probabilities: np.ndarray, bins: int = BINS) -> float:
    """ECE: the count-weighted mean |accuracy - confidence| over ``bins`` equal-width confidence bins."""
    rows = reliability(labels, probabilities, bins)
    total = sum(row["count"] for row in rows)
    return float(sum(row["count"] * abs(row["accuracy"] - row["confidence"]) for row in rows) / max(total, 1))


def negative_log_likelihood(labels: np.ndarray, probabilities: np.ndarray) -> float:
    """Mean -log p(true class)."""
    return float(-np.log(np.maximum(probabilities[np.arange(len(labels)), labels], 1e-12)).mean())


def fit_temperature(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The temperature minimising the validation negative log-likelihood of ``softmax(log p / T)``."""
    def loss(log_t: float) -> float:
        return negative_log_likelihood(labels, apply_temperature(probabilities, float(np.exp(log_t))))

    result = minimize_scalar(loss, bounds=tuple(np.log(T_RANGE)), method="bounded", options={"xatol": 1e-5})
    return float(np.exp(result.x))


def fit_bands(probabilities: np.ndarray, labels: np.ndarray) -> ConfidenceBands:
    """Bands by calibrated top probability whose validation accuracy is what their words promise.

    "sure" starts at the lowest threshold above which validation accuracy is at least
    ``SURE_ACCURACY`` (on at least ``MIN_BAND_COUNT`` faces); "likely" at the lowest threshold below
    that where the faces between the two are right at least ``LIKELY_ACCURACY`` of the time; the
    rest is "unsure". A band no threshold qualifies for is left out. Each band records its measured
    accuracy and count.
    """
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels

    def lowest(upper: float, target: float) -> float | None:
        for threshold in THRESHOLDS:
            mask = (confidence >= threshold) & (confidence < upper)
            if threshold < upper and mask.sum() >= MIN_BAND_COUNT and correct[mask].mean() >= target:
                return threshold
        return None

    sure = lowest(np.inf, SURE_ACCURACY)
    likely = lowest(sure if sure is not None else np.inf, LIKELY_ACCURACY)
    bounds = [(key, lower) for key, lower in zip(KEYS, (sure, likely, 0.0)) if lower is not None]
    bands, upper = [], np.inf
    for key, lower in bounds:
        mask = (confidence >= lower) & (confidence < upper)
        bands.append(Band(key, LABELS[key], float(correct[mask].mean()) if mask.any() else 0.0, lower, int(mask.sum())))
        upper = lower
    return ConfidenceBands(tuple(bands))


def band_report(bands: ConfidenceBands, probabilities: np.ndarray, labels: np.ndarray) -> list[dict[str, Any]]:
    """How each band does on a split: share of faces and accuracy (to check validation's figures on test)."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    keys = np.array([bands.band(float(c)).key for c in confidence])
    rows = []
    for band in bands.bands:
        mask = keys == band.key
        rows.append({"key": band.key, "label": band.label, "lower": band.lower, "count": int(mask.sum()),
                     "share": float(mask.mean()), "accuracy": float(correct[mask].mean()) if mask.any() else 0.0,
                     "validation_accuracy": band.accuracy})
    return rows
