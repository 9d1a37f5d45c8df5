"""BatchNormalization computed by TensorFlow's fused kernel while the trainable top trains.

Keras 3's BatchNormalization builds batch statistics and the normalisation out of separate mean,
square, subtract and multiply ops; profiling the top's training step on this 2-core CPU put those
ops at about half of its time. TensorFlow's ``FusedBatchNormV3`` (oneDNN on x86) computes the same
thing in one pass forward and one backward. The arithmetic is the layer's own: batch mean and
biased variance, the same epsilon, the same moving-average update. Only the kernel differs.

The swap is temporary (see :func:`fused_batchnorm`) so that the saved model holds plain Keras
layers that any Keras, and the LiteRT export, load as before.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import keras
from keras import layers


class FusedTrainingBatchNorm(layers.BatchNormalization):
    """A BatchNormalization whose training-mode call runs TensorFlow's fused kernel (NHWC float32)."""

    def call(self, inputs, training=None, mask=None):  # type: ignore[override]  # Keras's own signature
        if not self._fusable(inputs, training, mask):
            return super().call(inputs, training=training, mask=mask)
        import tensorflow as tf  # only ever called under the TensorFlow backend (see _fusable)

        empty = tf.constant([], dtype=tf.float32)
        outputs, mean, variance, *_ = tf.raw_ops.FusedBatchNormV3(
            x=inputs, scale=self.gamma, offset=self.beta, mean=empty, variance=empty,
            epsilon=self.epsilon, exponential_avg_factor=1.0, data_format="NHWC", is_training=True,
        )
        # The kernel returns the Bessel-corrected variance; Keras keeps the biased one.
        count = tf.cast(tf.reduce_prod(tf.shape(inputs)[:-1]), tf.float32)
        variance = variance * (count - 1.0) / count
        self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
        self.moving_variance.assign(self.moving_variance * self.momentum + variance * (1.0 - self.momentum))
        return outputs

    def _fusable(self, inputs, training, mask) -> bool:
        """True where the fused kernel computes exactly what the Keras layer would."""
        return (
            bool(training) and self.trainable and mask is None and not self.renorm
            and self.scale and self.center
            and keras.backend.backend() == "tensorflow"
            and len(inputs.shape) == 4 and self.axis in (3, -1)
            and inputs.dtype == "float32" and self.compute_dtype == "float32"
        )


@contextmanager
def fused_batchnorm(model: keras.Model) -> Iterator[int]:
    """Within the block, ``model``'s BatchNormalization layers train through the fused kernel.

    Yields how many layers were switched; on leaving, they are plain BatchNormalization again.
    Must be entered before the model's first training step, which traces the layers' calls.
    """
    switched = [layer for layer in model.layers if type(layer) is layers.BatchNormalization]
    for layer in switched:
        layer.__class__ = FusedTrainingBatchNorm
    try:
        yield len(switched)
    finally:
        for layer in switched:
            layer.__class__ = layers.BatchNormalization
