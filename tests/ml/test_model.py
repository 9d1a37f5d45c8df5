"""The plan's architecture: the exact 70/30 freeze, the head, the optimiser, the callbacks, class weights."""

import keras
import numpy as np
import pytest
from sklearn.utils.class_weight import compute_class_weight

from ml import callbacks
from ml.model import build_model, compile_model, frozen_layer_count
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


@pytest.mark.parametrize("batchnorm_inference", [False, True])
def test_trainable_batchnorm_modes(batchnorm_inference: bool) -> None:
    plan = build_model(weights=None)
    top = plan.trainable_part(batchnorm_inference)
    bn = next(layer for layer in top.layers if isinstance(layer, keras.layers.BatchNormalization))
    assert bn.trainable
    moving, gamma = np.array(bn.moving_mean), np.array(bn.gamma)
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 3, (64, *top.input_shape[1:])).astype("float32")
    y = keras.utils.to_categorical(rng.integers(0, 7, 64), 7)
    compile_model(top)
    top.fit(x, y, batch_size=32, epochs=1, verbose=0)
    # Scale and offset train in both modes; the moving statistics move only with batch statistics.
    assert np.abs(np.array(bn.gamma) - gamma).max() > 0
    moved = np.abs(np.array(bn.moving_mean) - moving).max()
    assert (moved == 0) if batchnorm_inference else (moved > 0)
    if batchnorm_inference:
        # Only the dropout differs between training and inference now.
        dropout = plan.model.get_layer("head_dropout")
        rate, dropout.rate = dropout.rate, 0.0
        np.testing.assert_allclose(top(x[:4], training=True), top(x[:4], training=False), atol=1e-5)
        dropout.rate = rate
