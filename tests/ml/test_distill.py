"""Distillation targets: the blend of label and teacher, the class weights by true label, and the teacher's
tops on cached features reading exactly what the whole teacher reads from the image."""

import keras
import numpy as np
import pytest

from ml import distill
from ml.ensemble import assemble
from ml.model import build_model


def test_blend_is_the_label_share_plus_the_teachers_rest() -> None:
    soft = np.array([[0.1, 0.7, 0.2], [0.5, 0.25, 0.25]], dtype=np.float32)
    labels = np.array([0, 2])
    np.testing.assert_allclose(distill.blend(labels, soft, 1.0), [[1, 0, 0], [0, 0, 1]])
    np.testing.assert_allclose(distill.blend(labels, soft, 0.0), soft)
    mixed = distill.blend(labels, soft, 0.5)
    np.testing.assert_allclose(mixed, [[0.55, 0.35, 0.1], [0.25, 0.125, 0.625]])
    np.testing.assert_allclose(mixed.sum(axis=1), 1.0, rtol=1e-6)
    with pytest.raises(ValueError):
        distill.blend(labels, soft, 1.5)


def test_class_weights_follow_the_true_label_not_the_soft_targets_argmax() -> None:
    weights = distill.label_weights(np.array([1, 0, 1, 2]), {0: 0.5, 1: 9.0, 2: 1.25})
    np.testing.assert_array_equal(weights, [9.0, 0.5, 9.0, 1.25])


def test_agreement_counts_the_teachers_right_answers() -> None:
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    assert distill.agreement(probabilities, np.array([0, 1, 1])) == pytest.approx(2 / 3)


@pytest.mark.tensorflow
def test_teacher_tops_on_cached_features_read_what_the_whole_ensemble_reads() -> None:
    keras.utils.set_random_seed(1)
    first = build_model(None)
    second = build_model(None)
    second.model.set_weights([w.copy() for w in first.model.get_weights()])
    # Another head: perturb only the trainable layers, so both share the frozen trunk.
    for layer in second.model.layers[second.frozen_count:]:
        layer.set_weights([w + np.float32(0.01) for w in layer.get_weights()])
    ensemble = assemble([first.model, second.model]).model
    teacher = distill.teacher_from(ensemble, first.model, first.frozen_count, "pair")
    assert teacher.heads == 2
    images = np.random.default_rng(2).uniform(-1, 1, size=(3, 224, 224, 3)).astype(np.float32)
    features = np.asarray(first.frozen_part()(images, training=False))
    np.testing.assert_allclose(teacher.predict(features), np.asarray(ensemble(images, training=False)), atol=1e-5)
    soft = distill.soft_targets(teacher, features, features[::-1])
    np.testing.assert_allclose(soft, (teacher.predict(features) + teacher.predict(features[::-1])) / 2, atol=1e-6)


@pytest.mark.tensorflow
def test_a_teacher_on_another_trunk_is_refused() -> None:
    keras.utils.set_random_seed(1)
    student = build_model(None)
    other = build_model(None)  # other random frozen weights
    with pytest.raises(distill.TeacherMismatch, match="frozen layer"):
        distill.teacher_from(other.model, student.model, student.frozen_count, "other")
