"""Calibration: ECE, the temperature fit on a synthetic set of logits, and bands that keep their word."""

import numpy as np

from ml.calibration import expected_calibration_error, fit_bands, fit_temperature, reliability
from recognizer.confidence import LIKELY_ACCURACY, SURE_ACCURACY
from recognizer.recipe import apply_temperature


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(1, keepdims=True))
    return shifted / shifted.sum(1, keepdims=True)


def _overconfident(count: int = 6000, factor: float = 2.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Labels drawn from softmax(logits) (calibrated by construction); the model reports softmax(factor * logits)."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 1.5, size=(count, 7))
    true = _softmax(logits)
    labels = np.array([rng.choice(7, p=row) for row in true])
    return _softmax(factor * logits), labels


def test_ece_of_a_perfectly_calibrated_and_an_overconfident_model() -> None:
    labels = np.zeros(1000, dtype=int)
    probabilities = np.full((1000, 7), 0.0)
    probabilities[:, 0] = 1.0
    assert expected_calibration_error(labels, probabilities) == 0.0
    probabilities[:500, 0], probabilities[:500, 1] = 0.0, 1.0  # always 100% sure, right half the time
    assert expected_calibration_error(labels, probabilities) == 0.5
    rows = reliability(labels, probabilities)
    assert len(rows) == 15 and sum(row["count"] for row in rows) == 1000 and rows[-1]["accuracy"] == 0.5


def test_temperature_recovers_the_overconfidence_factor_and_lowers_ece() -> None:
    probabilities, labels = _overconfident()
    temperature = fit_temperature(probabilities, labels)
    assert abs(temperature - 2.0) < 0.15
    calibrated = apply_temperature(probabilities, temperature)
    assert expected_calibration_error(labels, calibrated) < 0.03 < expected_calibration_error(labels, probabilities)


def test_temperature_of_a_calibrated_model_is_about_one() -> None:
    probabilities, labels = _overconfident(factor=1.0, seed=1)
    assert abs(fit_temperature(probabilities, labels) - 1.0) < 0.1


def test_bands_keep_their_words() -> None:
    probabilities, labels = _overconfident(count=8000, factor=1.0, seed=2)
    bands = fit_bands(probabilities, labels)
    by_key = {band.key: band for band in bands.bands}
    assert list(by_key) == ["sure", "likely", "unsure"] and by_key["unsure"].lower == 0.0
    assert by_key["sure"].accuracy >= SURE_ACCURACY and by_key["likely"].accuracy >= LIKELY_ACCURACY
    assert by_key["unsure"].accuracy < LIKELY_ACCURACY
    assert sum(band.count for band in bands.bands) == len(labels)
    correct = probabilities.argmax(1) == labels
    sure = probabilities.max(1) >= by_key["sure"].lower
    assert correct[sure].mean() == by_key["sure"].accuracy


def test_without_enough_evidence_everything_is_unsure() -> None:
    probabilities, labels = _overconfident(count=60, seed=3)
    assert [band.key for band in fit_bands(probabilities, labels).bands] == ["unsure"]
