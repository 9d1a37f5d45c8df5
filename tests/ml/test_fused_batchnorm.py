"""The fused training BatchNorm: same numbers as Keras's layer, really fused, and swapped back afterwards."""

import contextlib

import keras
import numpy as np
import pytest
import tensorflow as tf

from ml.fused_batchnorm import FusedTrainingBatchNorm, fused_batchnorm
from ml.model import build_model


def _small_model() -> keras.Model:
    keras.utils.set_random_seed(3)
    inputs = keras.Input((7, 7, 16))
    outputs = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-3)(inputs)
    model = keras.Model(inputs, outputs)
    layer = model.layers[1]
    rng = np.random.default_rng(3)
    layer.gamma.assign(rng.uniform(0.5, 1.5, 16))
    layer.beta.assign(rng.uniform(-1, 1, 16))
    return model


def _train_step(fused: bool, x: tf.Tensor) -> tuple[np.ndarray, list[np.ndarray], np.ndarray, np.ndarray]:
    model = _small_model()
    layer = model.layers[1]
    with fused_batchnorm(model) if fused else contextlib.nullcontext():
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = model(x, training=True)
            loss = tf.reduce_sum(y ** 3)
        grads = tape.gradient(loss, [x, layer.gamma.value, layer.beta.value])
    return y.numpy(), [g.numpy() for g in grads], layer.moving_mean.numpy(), layer.moving_variance.numpy()


def test_fused_training_step_matches_keras_batchnorm() -> None:
    x = tf.constant(np.random.default_rng(0).normal(1.0, 3.0, (8, 7, 7, 16)).astype("float32"))
    keras_y, keras_grads, keras_mean, keras_var = _train_step(False, x)
    fused_y, fused_grads, fused_mean, fused_var = _train_step(True, x)
    np.testing.assert_allclose(fused_y, keras_y, atol=1e-5)
    for fused_grad, keras_grad in zip(fused_grads, keras_grads):
        np.testing.assert_allclose(fused_grad, keras_grad, atol=1e-5 * np.abs(keras_grad).max())
    # Moving statistics: the biased batch variance, as Keras keeps it, not the kernel's corrected one.
    np.testing.assert_allclose(fused_mean, keras_mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fused_var, keras_var, rtol=1e-5)


def test_inference_calls_are_left_to_keras() -> None:
    model = _small_model()
    x = np.random.default_rng(1).normal(size=(2, 7, 7, 16)).astype("float32")
    expected = model(x, training=False).numpy()
    with fused_batchnorm(model):
        np.testing.assert_allclose(model(x, training=False).numpy(), expected, atol=1e-6)


@pytest.fixture(scope="module")
def plan():
    return build_model(weights=None)


def test_trainable_top_trains_through_the_fused_kernel_and_is_restored(plan) -> None:
    top = plan.trainable_part()
    batchnorms = [layer for layer in top.layers if isinstance(layer, keras.layers.BatchNormalization)]
    spec = tf.TensorSpec((2, *plan.boundary_layer.output.shape[1:]), tf.float32)
    with fused_batchnorm(top) as switched:
        assert switched == len(batchnorms) > 0
        graph = tf.function(lambda x: top(x, training=True)).get_concrete_function(spec).graph
        op_types = {op.type for op in graph.get_operations()}
        assert "FusedBatchNormV3" in op_types
    assert all(type(layer) is keras.layers.BatchNormalization for layer in batchnorms)
    assert not any(isinstance(layer, FusedTrainingBatchNorm) for layer in plan.model.layers)
    assert "FusedTrainingBatchNorm" not in str(plan.model.get_config())
