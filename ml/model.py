"""The model of the design plan: MobileNetV2 (ImageNet) with its bottom 70% frozen and a small head.

Plan: input 224x224x3; MobileNetV2 base, include_top=False; the bottom 70% of the base's layers
frozen, the top 30% trainable; GlobalAveragePooling2D -> Dropout(0.4) -> Dense(7, softmax);
categorical_crossentropy with Adam at 1e-4.
"""

from dataclasses import dataclass
from typing import Final

import keras
from keras import layers

from recognizer.emotions import EMOTIONS
from recognizer.preprocess import INPUT_SIZE

INPUT_SHAPE: Final = (INPUT_SIZE, INPUT_SIZE, 3)
FREEZE_FRACTION: Final = 0.7
DROPOUT: Final = 0.4
LEARNING_RATE: Final = 1e-4


@dataclass(frozen=True)
class PlanModel:
    """The full model plus the split point between its frozen and trainable parts."""

    model: keras.Model
    base_layer_count: int
    frozen_count: int

    @property
    def boundary_layer(self) -> keras.layers.Layer:
        """The last frozen layer: its output is what the trainable part starts from."""
        return self.model.layers[self.frozen_count - 1]

    def frozen_part(self) -> keras.Model:
        """Sub-model from the image to the last frozen layer's output (deterministic at inference)."""
        return keras.Model(self.model.input, self.boundary_layer.output, name="frozen_base")

    def trainable_part(self, batchnorm_inference: bool = False) -> keras.Model:
        """Sub-model from the frozen part's output to the class probabilities; shares the weights.

        With ``batchnorm_inference`` the trainable BatchNormalization layers normalise with their
        moving (ImageNet) statistics while training too, as Keras's fine-tuning guide advises; their
        scale and offset still train. Otherwise they use batch statistics and update the moving ones.
        """
        if batchnorm_inference:
            for layer in self.model.layers[self.frozen_count:]:
                if isinstance(layer, layers.BatchNormalization):
                    keep_in_inference_mode(layer)
        return keras.Model(self.boundary_layer.output, self.model.output, name="trainable_top")


def keep_in_inference_mode(layer: keras.layers.Layer) -> None:
    """Make ``layer`` ignore the ``training`` flag of the model calling it (its weights stay trainable).

    Keras hands a functional model's ``training`` flag to every layer that declares the argument,
    overriding even an explicit ``training=False`` recorded in the graph; a layer that no longer
    declares it is called with ``training=None``, which BatchNormalization treats as inference.
    """
    layer._call_has_training_arg = False
    layer._call_context_args = set()


def frozen_layer_count(base_layer_count: int) -> int:
    """How many of the base's layers (counted from the input) the plan freezes."""
    return int(base_layer_count * FREEZE_FRACTION)


def build_model(weights: str | None, learning_rate: float = LEARNING_RATE) -> PlanModel:
    """Build and compile the plan's model.

    ``weights`` is a path to MobileNetV2's ImageNet no-top weights file, ``"imagenet"`` (Keras finds
    or downloads it), or None for random initialisation (tests only; see ml.weights).
    """
    base = keras.applications.MobileNetV2(input_shape=INPUT_SHAPE, include_top=False, weights=weights)
    count = len(base.layers)
    frozen = frozen_layer_count(count)
    for index, layer in enumerate(base.layers):
        layer.trainable = index >= frozen
    x = layers.GlobalAveragePooling2D(name="head_pool")(base.output)
    x = layers.Dropout(DROPOUT, name="head_dropout")(x)
    outputs = layers.Dense(len(EMOTIONS), activation="softmax", name="head_probabilities")(x)
    model = keras.Model(base.input, outputs, name="emotune_mobilenetv2")
    compile_model(model, learning_rate)
    return PlanModel(model=model, base_layer_count=count, frozen_count=frozen)


def compile_model(model: keras.Model, learning_rate: float = LEARNING_RATE, steps_per_execution: int = 1,
                  label_smoothing: float = 0.0, ema_momentum: float = 0.0) -> None:
    """Compile with the plan's loss and optimiser; ``steps_per_execution`` batches run per TensorFlow call.

    ``label_smoothing`` moves that share of each target to the uniform distribution (the loss stays
    categorical cross-entropy); ``ema_momentum`` > 0 makes Adam keep an exponential moving average of
    the weights, which :class:`keras.callbacks.SwapEMAWeights` swaps in for validation and keeps.
    XLA is off on purpose: on this CPU it made a training step about six times slower.
    """
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate, use_ema=ema_momentum > 0,
                                        ema_momentum=ema_momentum or 0.99),
        loss=(keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing) if label_smoothing
              else "categorical_crossentropy"),
        metrics=["accuracy"],
        jit_compile=False,
        steps_per_execution=steps_per_execution,
    )
