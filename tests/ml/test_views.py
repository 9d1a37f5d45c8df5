"""Training batches from the cached features: the epoch gather serves exactly the per-batch gather's draws,
and training through it (with several steps per TensorFlow call) ends where the plain path ends."""

import keras
import numpy as np
import pytest

from ml.fused_batchnorm import fused_batchnorm
from ml.model import build_model, compile_model
from ml.views import BatchGatherViews, CachedViews, RotatingViews


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
    epoch_targets = np.concatenate([lean[i][1] for i in range(len(lean))])
    assert sorted(map(bytes, epoch_targets)) == sorted(map(bytes, targets))


def test_sample_weights_follow_their_images_in_both_paths() -> None:
    features, targets = _cache()
    weights = np.arange(len(targets), dtype=np.float32) + 1
    for views in (BatchGatherViews(features, targets, 8, seed=5, sample_weights=weights),
                  CachedViews(features, targets, 8, seed=5, sample_weights=weights)):
        for index in range(len(views)):
            maps, batch_targets, batch_weights = views[index]
            rows = views.order[index * 8:(index + 1) * 8]
            np.testing.assert_array_equal(batch_weights, weights[rows])
            np.testing.assert_array_equal(batch_targets, targets[rows])


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


def _rotating(features: np.ndarray, targets: np.ndarray, share: float) -> tuple[RotatingViews, list[int]]:
    faces = np.arange(features.shape[1], dtype=np.uint8)[:, None, None] * np.ones((1, 48, 48), dtype=np.uint8)
    calls: list[int] = []

    def frozen(batch: np.ndarray) -> np.ndarray:
        calls.append(len(batch))
        # A recognisable "feature" per face: its id (all pixels of face k are k) plus one.
        return np.broadcast_to(batch[:, :1, :1, None] + 1.0, (len(batch), *features.shape[2:])).astype(np.float16)

    def redraw(batch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return batch

    return RotatingViews(features, targets, 8, seed=2, faces=faces, share=share, redraw=redraw, frozen=frozen), calls


def test_rotating_cache_redraws_its_share_of_random_views_each_epoch_and_keeps_the_clean_ones() -> None:
    features, targets = _cache(views=4, count=40)
    clean = features[:2].copy()
    views, calls = _rotating(features, targets, share=0.25)
    assert calls == [] and views.redrawn == 0, "nothing is redrawn before the first epoch"
    views.on_epoch_end()
    assert calls == [10, 10] and views.redrawn == 20  # 25% of 40 faces, in each of the 2 random slots
    np.testing.assert_array_equal(features[:2], clean)
    changed = np.flatnonzero(features[2, :, 0, 0, 0] == np.arange(40) + 1)
    assert len(changed) == 10
    # The same faces got new views in both random slots, and each face's new features are its own.
    np.testing.assert_array_equal(features[3, changed, 0, 0, 0], changed + 1)
    views.on_epoch_end()
    assert views.redrawn == 40
    # The epoch's batches come from the redrawn cache.
    maps = np.concatenate([views[i][0] for i in range(len(views))])
    assert maps.shape == (40, 4, 4, 2)


def test_rotating_cache_refuses_a_cache_without_random_views() -> None:
    features, targets = _cache(views=2)
    with pytest.raises(ValueError, match="random views"):
        _rotating(features, targets, share=0.5)
    with pytest.raises(ValueError, match="share"):
        _rotating(_cache(views=3)[0], targets, share=0.0)


def _indexed_cache(count: int = 40) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Views whose every feature is the image's row number; targets and weights tell the rows apart too."""
    features = np.broadcast_to(np.arange(count, dtype=np.float16)[None, :, None, None, None], (2, count, 4, 4, 2)).copy()
    targets = np.eye(7)[np.arange(count) % 7]
    return features, targets, np.arange(count, dtype=np.float32) + 1


def test_mixup_mixes_maps_targets_and_weights_of_two_batch_members_alike() -> None:
    features, targets, weights = _indexed_cache()
    views = CachedViews(features, targets, 8, seed=4, sample_weights=weights, mixup_alpha=0.4)
    mixed_some = False
    for index in range(len(views)):
        maps, batch_targets, batch_weights = views[index]
        rows = views.order[index * 8:(index + 1) * 8]
        for row, value, target, weight in zip(rows, maps[:, 0, 0, 0], batch_targets, batch_weights):
            np.testing.assert_allclose(target.sum(), 1, rtol=1e-6)
            if target.max() > 0.999:  # its own label kept whole: mixed with nobody (or the same class)
                continue
            lam = target.max()
            assert 0.5 <= lam < 1 and np.argmax(target) == row % 7, "each example keeps the larger share"
            partner = (value - lam * row) / (1 - lam)
            assert np.isclose(partner, np.round(partner), atol=0.05) and round(partner) in rows, \
                "the map is mixed with another member of the same batch"
            np.testing.assert_allclose(weight, lam * (row + 1) + (1 - lam) * (round(partner) + 1), rtol=1e-3)
            mixed_some = True
    assert mixed_some


def test_without_mixup_batches_are_the_cache_and_both_paths_mix_alike() -> None:
    features, targets, weights = _indexed_cache()
    plain = CachedViews(features, targets, 8, seed=4, sample_weights=weights)
    maps, batch_targets, batch_weights = plain[0]
    np.testing.assert_array_equal(maps[:, 0, 0, 0], plain.order[:8])
    np.testing.assert_array_equal(batch_targets, targets[plain.order[:8]])
    lean = CachedViews(features, targets, 8, seed=4, mixup_alpha=0.4)
    gather = BatchGatherViews(features, targets, 8, seed=4, mixup_alpha=0.4)
    for index in range(len(lean)):
        for a, b in zip(lean[index], gather[index]):
            np.testing.assert_allclose(a, b, rtol=1e-3)
