"""Distillation: a teacher's probabilities on the cached features become one plan head's training targets.

The teacher is a plan model or an ensemble of plan heads (``ml.ensemble``): every one of them shares
the plan's frozen ImageNet trunk, so its trainable top runs directly on the features the run has
cached, and the teacher costs one forward pass of its tops per face, not a pass of the whole network.

Each face's soft target is the teacher's mean probability on the clean face and its mirror (views 0
and 1 of the cache, what serving averages too), given to every view of that face, degraded ones
included: the student learns to read a blurred or over-exposed face as the teacher reads the clean
one. The target blends it with the one-hot label, ``hard_share * onehot + (1 - hard_share) * teacher``;
categorical cross-entropy on that blend is the plan's loss on a soft target, and equals the weighted
sum of the hard-label and teacher losses. The plan's class weights stay, applied by the true label.
"""

from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

TEACHER_BATCH = 256


class TeacherMismatch(ValueError):
    """The teacher does not share the student's frozen trunk, so the cached features do not fit it."""


@dataclass(frozen=True)
class Teacher:
    """A teacher's trainable tops (from the boundary layer's output to its probabilities) and what it is."""

    top: keras.Model
    name: str
    heads: int

    def predict(self, features: np.ndarray) -> np.ndarray:
        """The teacher's probabilities for (N, H, W, C) cached frozen-part features (float32)."""
        return np.asarray(self.top.predict(features, batch_size=TEACHER_BATCH, verbose=0), dtype=np.float32)

    def describe(self) -> dict[str, Any]:
        """What the metadata records of the teacher."""
        return {"name": self.name, "heads": self.heads}


def teacher_from(model: keras.Model, student: keras.Model, frozen_count: int, name: str) -> Teacher:
    """The teacher ``model``'s tops, cut at the student's boundary layer, after checking the trunk is shared.

    Raises :class:`TeacherMismatch` when a frozen layer of the teacher is missing or holds other
    weights than the student's (another base, another freeze): its tops would see other features.
    """
    boundary = student.layers[frozen_count - 1].name
    for layer in student.layers[:frozen_count]:
        if not layer.weights:  # the input and the weightless layers: their names may differ between builds
            continue
        try:
            theirs = model.get_layer(layer.name)
        except ValueError as error:
            raise TeacherMismatch(f"The teacher {name} has no layer {layer.name}: pass a model `flask train-model` "
                                  "or `flask assemble-ensemble` wrote.") from error
        for a, b in zip(layer.get_weights(), theirs.get_weights(), strict=True):
            if a.shape != b.shape or not np.array_equal(a, b):
                raise TeacherMismatch(f"The teacher {name}'s frozen layer {layer.name} differs from the student's: "
                                      "a teacher must come from the same ImageNet weights with the plan's freeze.")
    top = keras.Model(model.get_layer(boundary).output, model.output, name="teacher_top")
    heads = sum(1 for layer in model.layers if isinstance(layer, keras.Model)) or 1
    return Teacher(top, name, heads)


def soft_targets(teacher: Teacher, clean: np.ndarray, mirrored: np.ndarray) -> np.ndarray:
    """Per face, the teacher's mean probability on the clean face's and its mirror's cached features."""
    return (teacher.predict(clean) + teacher.predict(mirrored)) / 2


def blend(labels: np.ndarray, soft: np.ndarray, hard_share: float) -> np.ndarray:
    """``hard_share`` of the one-hot label plus the rest of the teacher's probabilities, per face."""
    if not 0.0 <= hard_share <= 1.0:
        raise ValueError(f"hard_share must lie in [0, 1], not {hard_share}")
    onehot = np.eye(soft.shape[1], dtype=np.float32)[labels]
    return (hard_share * onehot + (1.0 - hard_share) * soft).astype(np.float32)


def label_weights(labels: np.ndarray, class_weights: dict[int, float]) -> np.ndarray:
    """Each face's class weight by its true label (Keras would take the argmax of a soft target instead)."""
    table = np.array([class_weights[index] for index in range(len(class_weights))], dtype=np.float32)
    return table[labels]


def agreement(teacher: np.ndarray, labels: np.ndarray) -> float:
    """Share of faces whose teacher argmax is the true label (the teacher's accuracy on the training views)."""
    return float(np.mean(np.argmax(teacher, axis=1) == labels))
