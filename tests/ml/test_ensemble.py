"""Ensemble assembly: one frozen trunk, every member's top, probabilities averaged; refused across trunks."""

import keras
import numpy as np
import pytest

from ml.ensemble import TrunkMismatch, assemble, boundary_index
from ml.model import build_model


@pytest.fixture(scope="module")
def members() -> list[keras.Model]:
    """Two plan models sharing one (random) trunk, with different trainable tops."""
    keras.utils.set_random_seed(1)
    first = build_model(weights=None).model
    second = keras.models.clone_model(first)
    second.set_weights(first.get_weights())
    rng = np.random.default_rng(0)
    frozen = boundary_index(first)
    for layer in second.layers[frozen:]:
        layer.set_weights([w + rng.normal(0, 0.05, w.shape).astype(w.dtype) for w in layer.get_weights()])
    return [first, second]


def test_boundary_is_the_plans_70_percent(members: list[keras.Model]) -> None:
    assert boundary_index(members[0]) == 107 and members[0].layers[106].name == "block_11_add"


def test_ensemble_output_is_the_mean_of_its_members(members: list[keras.Model]) -> None:
    ensemble = assemble(members)
    x = np.random.default_rng(3).uniform(-1, 1, (3, 224, 224, 3)).astype("float32")
    outputs = [np.asarray(m(x, training=False)) for m in members]
    assert np.abs(outputs[0] - outputs[1]).max() > 1e-3  # the heads really differ
    joined = np.asarray(ensemble.model(x, training=False))
    np.testing.assert_allclose(joined, (outputs[0] + outputs[1]) / 2, atol=1e-5)
    # one trunk: the ensemble holds the frozen layers once, plus each member's top
    trunk = sum(w.size for layer in members[0].layers[:107] for w in layer.get_weights())
    top = sum(w.size for layer in members[0].layers[107:] for w in layer.get_weights())
    assert ensemble.model.count_params() == trunk + 2 * top


def test_members_with_different_trunks_are_refused(members: list[keras.Model]) -> None:
    other = keras.models.clone_model(members[0])  # freshly initialised: another trunk
    with pytest.raises(TrunkMismatch, match="frozen layer"):
        assemble([members[0], other])
