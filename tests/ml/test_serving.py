"""The serving choices made on the validation split: the split itself and the class-prior exponent."""

import json
from pathlib import Path

import numpy as np
import pytest

from ml.datasets import DatasetError
from ml.serving import EXPONENTS, choose_prior, rebuild_validation, validation_split
from recognizer.emotions import EMOTIONS

COUNTS = {"Angry": 100, "Disgust": 10, "Fear": 100, "Happy": 400, "Neutral": 150, "Sad": 150, "Surprise": 90}


def test_validation_split_is_stratified_and_seeded() -> None:
    labels = np.repeat(np.arange(7), [50, 10, 50, 200, 80, 70, 40])
    train_a, val_a = validation_split(labels, 0.1, 42)
    train_b, val_b = validation_split(labels, 0.1, 42)
    _, val_c = validation_split(labels, 0.1, 7)
    np.testing.assert_array_equal(val_a, val_b)
    assert not np.array_equal(np.sort(val_a), np.sort(val_c))
    assert set(train_a).isdisjoint(val_a) and len(train_a) + len(val_a) == len(labels)
    assert np.bincount(labels[val_a], minlength=7).tolist() == [5, 1, 5, 20, 8, 7, 4]


def _overweighted_rare_class(count: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """Validation outputs of a model that, like a class-weighted one, over-predicts Disgust."""
    rng = np.random.default_rng(0)
    labels = rng.choice(7, size=count, p=np.array(list(COUNTS.values())) / sum(COUNTS.values()))
    probabilities = rng.dirichlet(np.ones(7), size=count) * 0.3
    probabilities[np.arange(count), labels] += 0.4
    probabilities[:, EMOTIONS.index("Disgust")] += 0.35  # the weighting's push towards the rare class
    return probabilities / probabilities.sum(1, keepdims=True), labels


def test_choice_takes_back_a_push_towards_a_rare_class() -> None:
    probabilities, labels = _overweighted_rare_class()
    choice = choose_prior(probabilities, labels, COUNTS)
    assert set(choice.scores) == set(EXPONENTS)
    assert choice.correction.exponent > 0
    assert choice.scores[choice.correction.exponent][0] > choice.scores[0.0][0]
    entry = choice.to_metadata()
    assert entry["exponent"] == choice.correction.exponent and set(entry["validation"]) == {"0.0", "0.5", "1.0"}


def test_choice_keeps_a_model_that_needs_no_correction() -> None:
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 7, size=300)
    probabilities = np.full((300, 7), 0.1)
    probabilities[np.arange(300), labels] = 0.4  # right every time, by a margin the prior cannot undo
    choice = choose_prior(probabilities / probabilities.sum(1, keepdims=True), labels, COUNTS)
    assert choice.correction.exponent == 0.0 and choice.scores[0.0][0] == 1.0


def test_rebuilding_the_validation_split_refuses_other_data(fer2013_root: Path, tmp_path: Path) -> None:
    from .conftest import copy_small_folders

    root = copy_small_folders(fer2013_root, tmp_path / "fer2013", per_class=6)
    meta = {"name": "mobilenetv2_fer2013_9", "dataset": {"name": "fer2013", "fingerprint_train": "0" * 64},
            "hyperparameters": {"seed": 42, "val_fraction": 0.25, "limit_per_class": None}}
    with pytest.raises(DatasetError, match="fingerprint"):
        rebuild_validation(meta, root)
    from ml.datasets import load_split

    meta["dataset"]["fingerprint_train"] = load_split(root, "train").fingerprint
    validation = rebuild_validation(meta, root)
    assert len(validation) == int(np.ceil(42 * 0.25)) and validation.split == "validation"
    json.dumps(validation.counts())  # plain ints, ready for the metadata


def test_decisions_are_written_where_the_recipe_reads_them() -> None:
    from ml.serving import decide
    from recognizer.recipe import ServingRecipe

    rng = np.random.default_rng(5)
    probabilities = rng.dirichlet(np.ones(7) * 0.7, size=3000)
    labels = np.array([rng.choice(7, p=row) for row in probabilities])  # calibrated by construction
    sharpened = probabilities ** 2 / (probabilities ** 2).sum(1, keepdims=True)  # then made over-confident
    choice = decide(sharpened, labels, COUNTS)
    assert choice.temperature > 1 and choice.validation["ece_after"] < choice.validation["ece_before"]
    recipe = ServingRecipe.from_metadata({"serving": choice.to_metadata()})
    assert recipe == choice.recipe()
    assert recipe.temperature == choice.temperature
    assert [b.key for b in recipe.bands.bands] == [b.key for b in choice.bands.bands]
