"""The serving recipe: read from metadata, and each step (views, prior, temperature) as specified."""

import numpy as np
import pytest

from recognizer.confidence import ConfidenceBands, Band, reading
from recognizer.emotions import EMOTIONS
from recognizer.errors import ModelError
from recognizer.prior import PriorCorrection
from recognizer.recipe import ServingRecipe, apply_temperature

COUNTS = {"Angry": 10, "Disgust": 1, "Fear": 10, "Happy": 40, "Neutral": 20, "Sad": 10, "Surprise": 9}
BANDS = {"bands": [{"key": "sure", "lower": 0.64, "accuracy": 0.854, "count": 1466},
                   {"key": "likely", "lower": 0.52, "accuracy": 0.613, "count": 432},
                   {"key": "unsure", "lower": 0.0, "accuracy": 0.411, "count": 973}]}


def _metadata(**serving: object) -> dict[str, object]:
    return {"serving": serving}


def test_defaults_for_a_model_without_serving_metadata() -> None:
    recipe = ServingRecipe.from_metadata({})
    assert recipe.mirror and recipe.prior is None and recipe.temperature == 1.0 and recipe.bands is None
    assert recipe.describe() == "original + mirror averaged"


def test_every_step_is_read_from_metadata() -> None:
    prior = PriorCorrection.from_counts(COUNTS, 0.5)
    recipe = ServingRecipe.from_metadata(_metadata(test_time_flip=False, class_prior=prior.to_metadata(),
                                                   temperature={"value": 1.5696}, confidence_bands=BANDS))
    assert not recipe.mirror and recipe.prior == PriorCorrection.from_metadata({"class_prior": prior.to_metadata()})
    assert recipe.temperature == 1.5696 and recipe.bands is not None
    assert [band.key for band in recipe.bands.bands] == ["sure", "likely", "unsure"]
    assert recipe.describe() == "single pass, class prior^0.5, temperature 1.57"
    assert recipe.uncorrected() == ServingRecipe(mirror=False)


def test_views_are_faces_then_their_mirrors_and_combine_averages_them() -> None:
    faces = [np.arange(12, dtype=np.uint8).reshape(3, 4), np.ones((3, 4), dtype=np.uint8)]
    views = ServingRecipe().views(faces)
    assert len(views) == 4
    np.testing.assert_array_equal(views[2], faces[0][:, ::-1])
    outputs = np.array([[0.6, 0.4, 0, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0, 0],
                        [0.2, 0.8, 0, 0, 0, 0, 0], [0, 0, 0, 1, 0, 0, 0]])
    combined = ServingRecipe().combine(outputs, 2)
    np.testing.assert_allclose(combined[0, :2], [0.4, 0.6])
    np.testing.assert_allclose(combined[1, 2:4], [0.5, 0.5])
    assert ServingRecipe(mirror=False).views(faces) == faces


def test_temperature_softens_without_changing_the_decision() -> None:
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(7) * 0.3, size=50)
    softened = apply_temperature(probabilities, 2.0)
    np.testing.assert_array_equal(softened.argmax(1), probabilities.argmax(1))
    assert (softened.max(1) <= probabilities.max(1) + 1e-12).all()
    np.testing.assert_allclose(softened.sum(1), 1)
    # softmax(log p / T) is p^(1/T) renormalised
    expected = probabilities ** 0.5 / (probabilities ** 0.5).sum(1, keepdims=True)
    np.testing.assert_allclose(softened, expected, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(apply_temperature(probabilities, 1.0), probabilities, atol=1e-12)


def test_correct_applies_the_prior_before_the_temperature() -> None:
    probabilities = np.random.default_rng(1).dirichlet(np.ones(7), size=10)
    prior = PriorCorrection.from_counts(COUNTS, 1.0)
    served = ServingRecipe(prior=prior, temperature=1.7).correct(probabilities)
    np.testing.assert_allclose(served, apply_temperature(prior.apply(probabilities), 1.7), atol=1e-12)


def test_a_bad_temperature_is_refused() -> None:
    with pytest.raises(ModelError, match="temperature"):
        ServingRecipe.from_metadata(_metadata(temperature={"value": 0}))


def test_bands_come_from_metadata_and_cover_every_confidence() -> None:
    bands = ConfidenceBands.from_metadata({"confidence_bands": BANDS})
    assert bands is not None
    assert bands.band(0.9).key == "sure" and bands.band(0.64).key == "sure"
    assert bands.band(0.6).key == "likely" and bands.band(0.52).key == "likely"
    assert bands.band(0.3).key == "unsure" and bands.band(0.0).key == "unsure"
    assert bands.band(0.9).to_json() == {"key": "sure", "label": "sure", "accuracy": 0.854}
    assert ConfidenceBands.from_metadata({"confidence_bands": bands.to_metadata()}) == bands
    assert ConfidenceBands.from_metadata({}) is None


def test_malformed_bands_are_refused() -> None:
    with pytest.raises(ModelError):
        ConfidenceBands.from_metadata({"confidence_bands": {"bands": [{"key": "sure", "lower": 0.6, "accuracy": 0.9}]}})
    with pytest.raises(ModelError):
        ConfidenceBands.from_metadata({"confidence_bands": {"bands": [{"key": "certain", "lower": 0, "accuracy": 0.9}]}})


def test_reading_names_the_top_two_when_unsure() -> None:
    probabilities = [0.05, 0.0, 0.05, 0.05, 0.35, 0.4, 0.1]
    assert reading(probabilities, Band("unsure", "not sure", 0.41)) == "sad or neutral"
    assert reading(probabilities, Band("likely", "leaning this way", 0.61)) == "sad"
    assert reading(probabilities, None) == "sad"
    assert len(EMOTIONS) == len(probabilities)
