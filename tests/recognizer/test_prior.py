"""The class-prior correction: its arithmetic, and reading it from a model's metadata."""

import numpy as np
import pytest

from recognizer.emotions import EMOTIONS
from recognizer.errors import ModelError
from recognizer.prior import PriorCorrection

COUNTS = {"Angry": 3596, "Disgust": 392, "Fear": 3687, "Happy": 6493, "Neutral": 4469, "Sad": 4347, "Surprise": 2854}


def test_shares_come_from_the_counts_in_class_order() -> None:
    correction = PriorCorrection.from_counts(COUNTS, 1.0)
    total = sum(COUNTS.values())
    assert correction.prior == pytest.approx([COUNTS[name] / total for name in EMOTIONS])


def test_exponent_zero_changes_nothing_and_one_multiplies_by_the_prior() -> None:
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(7), size=5)
    np.testing.assert_allclose(PriorCorrection.from_counts(COUNTS, 0.0).apply(probabilities), probabilities)
    corrected = PriorCorrection.from_counts(COUNTS, 1.0).apply(probabilities)
    expected = probabilities * np.array([COUNTS[name] for name in EMOTIONS])
    np.testing.assert_allclose(corrected, expected / expected.sum(1, keepdims=True))
    np.testing.assert_allclose(corrected.sum(1), 1)


def test_a_rare_class_loses_a_close_call_to_a_common_one() -> None:
    # A class-weighted model's near tie between Disgust (rare) and Happy (common).
    probabilities = np.array([[0.0, 0.45, 0.0, 0.40, 0.15, 0.0, 0.0]])
    assert EMOTIONS[int(probabilities.argmax())] == "Disgust"
    half = PriorCorrection.from_counts(COUNTS, 0.5).apply(probabilities)
    assert EMOTIONS[int(half.argmax())] == "Happy"


def test_metadata_round_trip_and_absence() -> None:
    correction = PriorCorrection.from_counts(COUNTS, 0.5)
    restored = PriorCorrection.from_metadata({"class_prior": correction.to_metadata()})
    assert restored is not None and restored.exponent == 0.5
    assert restored.prior == pytest.approx(correction.prior, abs=1e-6)
    assert PriorCorrection.from_metadata({}) is None
    assert PriorCorrection.from_metadata({"class_prior": {**correction.to_metadata(), "exponent": 0}}) is None


@pytest.mark.parametrize("entry", [
    {"exponent": 1.0, "shares": {"Angry": 1.0}},
    {"exponent": 2.0, "shares": {name: 1 / 7 for name in EMOTIONS}},
    {"exponent": 1.0, "shares": {**{name: 1 / 7 for name in EMOTIONS}, "Sad": 0.0}},
])
def test_a_broken_metadata_entry_is_a_model_error(entry: dict) -> None:
    with pytest.raises(ModelError):
        PriorCorrection.from_metadata({"class_prior": entry})
