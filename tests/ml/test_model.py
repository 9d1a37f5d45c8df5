"""The plan's architecture: the exact 70/30 freeze, the head, the optimiser, the callbacks, class weights."""

import keras
import numpy as np
import pytest
from sklearn.utils.class_weight import compute_class_weight

from ml import callbacks
from ml.model import build_model, frozen_layer_count
from recognizer.emotions import EMOTIONS


@pytest.fixture(scope="module")
def plan():
    return build_model(weights=None)


def test_bottom_70_percent_of_base_frozen_top_30_trainable(plan) -> None:
    assert plan.base_layer_count == 154
    assert plan.frozen_count == frozen_layer_count(154) == 107
    base_layers = plan.model.layers[:plan.base_layer_count]
    assert [layer.trainable for layer in base_layers] == [False] * 107 + [True] * 47
    assert base_layers[106].name == "block_11_add" and base_layers[107].name == "block_12_expand"
    assert base_layers[-1].name == "out_relu"


def test_frozen_batchnorm_runs_in_inference_mode(plan) -> None:
    frozen = plan.frozen_part()
    x = np.random.default_rng(0).uniform(-1, 1, (4, 224, 224, 3)).astype("float32")
    # With trainable=False, Keras BatchNormalization uses its moving statistics even in training mode,
    # which is what makes the frozen part's outputs cacheable.
    np.testing.assert_allclose(frozen(x, training=True), frozen(x, training=False), atol=1e-5)


def test_head_is_pool_dropout_dense7_softmax(plan) -> None:
    pool, dropout, dense = plan.model.layers[-3:]
    assert isinstance(pool, keras.layers.GlobalAveragePooling2D)
    assert isinstance(dropout, keras.layers.Dropout) and dropout.rate == 0.4
    assert isinstance(dense, keras.layers.Dense) and dense.units == len(EMOTIONS)
    assert dense.activation is keras.activations.softmax
    assert plan.model.input_shape == (None, 224, 224, 3) and plan.model.output_shape == (None, 7)


def test_loss_and_optimiser(plan) -> None:
    assert plan.model.loss == "categorical_crossentropy"
    assert isinstance(plan.model.optimizer, keras.optimizers.Adam)
    assert float(plan.model.optimizer.learning_rate) == pytest.approx(1e-4)


def test_trainable_part_shares_weights_with_full_model(plan) -> None:
    top = plan.trainable_part()
    full_ids = {id(v) for v in plan.model.trainable_weights}
    assert {id(v) for v in top.trainable_weights} == full_ids


def test_callbacks_follow_the_plan(tmp_path) -> None:
    early, reduce, logger = callbacks.plan_callbacks(str(tmp_path / "h.csv"))
    assert isinstance(early, keras.callbacks.EarlyStopping) and early.patience == 6 and early.restore_best_weights
    assert isinstance(reduce, keras.callbacks.ReduceLROnPlateau) and reduce.patience == 3
    assert isinstance(logger, keras.callbacks.CSVLogger)


def test_class_weights_are_sklearn_balanced() -> None:
    labels = np.array([0] * 10 + [1] * 2 + [2] * 4 + [3] * 20 + [4] * 8 + [5] * 8 + [6] * 6)
    weights = compute_class_weight("balanced", classes=np.arange(7), y=labels)
    # balanced: n_samples / (n_classes * count)
    np.testing.assert_allclose(weights, len(labels) / (7 * np.bincount(labels)))
    assert weights.argmax() == 1 and weights.argmin() == 3
