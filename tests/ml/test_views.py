"""Training batches from the cached features: the epoch gather serves exactly the per-batch gather's draws,
and training through it (with several steps per TensorFlow call) ends where the plain path ends."""

import keras
import numpy as np
import pytest

from ml.fused_batchnorm import fused_batchnorm
from ml.model import build_model, compile_model
from ml.views import BatchGatherViews, CachedViews


def _cache(views: int = 3, count: int = 37, shape: tuple[int, ...] = (4, 4, 2)) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    features = rng.normal(size=(views, count, *shape)).astype(np.float16)
    targets = np.eye(7)[rng.integers(0, 7, count)]
    return features, targets


@pytest.mark.parametrize("feature_shift", [0, 1])
def test_epoch_gather_serves_the_per_batch_draws(feature_shift: int) -> None:
    features, targets = _cache()
    plain = BatchGatherViews(features, targets, batch_size=8, seed=3, feature_shift=feature_shift)
    lean = CachedViews(features, targets, batch_size=8, seed=3, feature_shift=feature_shift)
    assert len(plain) == len(lean) == 5
    for _ in range(2):  # two epochs: the redraw at the epoch's end matches too
        for index in range(len(plain)):
            (x_plain, y_plain), (x_lean, y_lean) = plain[index], lean[index]
            assert x_lean.dtype == np.float32 and x_lean.shape == x_plain.shape
            np.testing.assert_array_equal(y_lean, y_plain)
            # Shifts too: both draw them from the generator in the same sequence.
            np.testing.assert_array_equal(x_lean, x_plain)
        plain.on_epoch_end()
        lean.on_epoch_end()


def test_epoch_gather_draws_a_new_order_and_views_each_epoch() -> None:
    features, targets = _cache()
    lean = CachedViews(features, targets, batch_size=8, seed=3)
    first = lean.epoch_maps.copy()
    lean.on_epoch_end()
    assert not np.array_equal(first, lean.epoch_maps)
    assert sorted(map(bytes, lean.epoch_targets)) == sorted(map(bytes, targets))


@pytest.mark.tensorflow
def test_fast_path_trains_to_the_plain_paths_weights() -> None:
    """One epoch on 64 cached faces: epoch gather with 8 steps per call vs per-batch gather, 1 step per call."""
    results = []
    for views, steps in ((BatchGatherViews, 1), (CachedViews, 8)):
        keras.utils.set_random_seed(11)
        plan = build_model(None)
        frozen = keras.Model(plan.frozen_part().input, plan.frozen_part().output)
        faces = np.random.default_rng(0).uniform(0, 255, (64, 224, 224, 3)).astype(np.float32)
        features = frozen.predict(faces, verbose=0).astype(np.float16)[None]
        targets = np.eye(7)[np.arange(64) % 7]
        top = plan.trainable_part()
        compile_model(top, steps_per_execution=steps)
        with fused_batchnorm(top):
            history = top.fit(views(features, targets, 8, seed=2), epochs=1, verbose=0)
        results.append((history.history["loss"][-1], top.get_weights()))
    (loss_plain, weights_plain), (loss_fast, weights_fast) = results
    assert loss_fast == pytest.approx(loss_plain, rel=1e-4)
    changed = 0
    for fast, plain in zip(weights_fast, weights_plain):
        np.testing.assert_allclose(fast, plain, rtol=1e-3, atol=1e-5)
    # Control: training moved the weights, so agreement is not two untouched initialisations.
    keras.utils.set_random_seed(11)
    untouched = build_model(None).trainable_part().get_weights()
    changed = sum(not np.allclose(a, b) for a, b in zip(untouched, weights_plain))
    assert changed > len(untouched) // 2
