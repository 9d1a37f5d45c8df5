"""Training augmentation: the cached views, random erasing, and the per-epoch shift of cached feature maps."""

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from ml import augment
from ml.cli import train_model
from ml.train import CachedViews, TrainConfig


@pytest.fixture(scope="module")
def faces(fer2013_root: Path) -> np.ndarray:
    """Six real FER2013 training faces (uint8, 48x48), one from each of six classes."""
    folders = sorted((fer2013_root / "train").iterdir())[:6]
    return np.stack([np.asarray(Image.open(sorted(folder.iterdir())[0]).convert("L")) for folder in folders])


def test_views_are_original_mirror_then_random_copies(faces: np.ndarray) -> None:
    views = augment.make_views(faces, 4, seed=3)
    assert len(views) == 4 and all(v.shape == faces.shape and v.dtype == np.uint8 for v in views)
    np.testing.assert_array_equal(views[0], faces)
    np.testing.assert_array_equal(views[1], faces[:, :, ::-1])
    for random_view in views[2:]:
        assert all(not np.array_equal(a, b) for a, b in zip(random_view, faces))
    assert not np.array_equal(views[2], views[3])


def test_views_are_reproducible_from_the_seed(faces: np.ndarray) -> None:
    first, again, other = (augment.make_views(faces, 3, seed=s)[2] for s in (1, 1, 2))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_random_erasing_replaces_one_rectangle_of_bounded_area(faces: np.ndarray) -> None:
    rng = np.random.default_rng(0)
    height, width = faces.shape[1:]
    for face in faces:
        erased = augment.random_erase(face, rng, probability=1.0)
        rows, cols = np.nonzero(erased != face)
        assert len(rows) > 0
        # Noise can match a pixel by chance, so the rectangle is the bounding box of what changed.
        box_area = (np.ptp(rows) + 1) * (np.ptp(cols) + 1)
        assert box_area <= augment.ERASE_AREA[1] * height * width * 1.2
        assert len(rows) <= box_area
        outside = np.ones_like(face, dtype=bool)
        outside[rows.min():rows.max() + 1, cols.min():cols.max() + 1] = False
        np.testing.assert_array_equal(erased[outside], face[outside])


def test_random_erasing_respects_its_probability(faces: np.ndarray) -> None:
    rng = np.random.default_rng(1)
    assert all(augment.random_erase(f, rng, probability=0.0) is f for f in faces)
    changed = [not np.array_equal(augment.random_erase(faces[0], rng, 0.5), faces[0]) for _ in range(400)]
    assert 0.4 < np.mean(changed) < 0.6


def test_feature_shift_moves_each_map_by_at_most_one_cell_with_edge_fill() -> None:
    rng = np.random.default_rng(0)
    maps = rng.normal(size=(300, 14, 14, 5)).astype(np.float16)
    shifted = augment.shift_feature_maps(maps, rng, max_cells=1)
    assert shifted.shape == maps.shape and shifted.dtype == maps.dtype
    padded = np.pad(maps, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="edge")
    seen = set()
    for index in range(len(maps)):
        matches = [(dy, dx) for dy in range(3) for dx in range(3)
                   if np.array_equal(shifted[index], padded[index, dy:dy + 14, dx:dx + 14])]
        assert len(matches) == 1
        seen.add(matches[0])
    assert len(seen) == 9  # every offset in [-1, 1] x [-1, 1] is drawn


def test_feature_shift_zero_leaves_maps_alone() -> None:
    maps = np.ones((2, 14, 14, 3), dtype=np.float16)
    assert augment.shift_feature_maps(maps, np.random.default_rng(0), max_cells=0) is maps


def test_one_cell_feature_shift_matches_a_16_pixel_input_shift(faces: np.ndarray, imagenet_weights: Path) -> None:
    """The premise of the feature shift: the frozen part commutes with 16-pixel translations of its input."""
    from ml.model import build_model
    from recognizer.preprocess import faces_to_input

    frozen = build_model(str(imagenet_weights)).frozen_part()
    images = faces_to_input(faces)
    moved = np.pad(images, ((0, 0), (16, 0), (16, 0), (0, 0)), mode="edge")[:, :224, :224]  # content 16 px down-right
    features = np.asarray(frozen(images, training=False))
    features_moved = np.asarray(frozen(moved, training=False))
    scale = np.abs(features).mean()

    def shifted_error(low: int, high: int) -> float:
        """Mean difference, relative to the features' size, between moved-image and moved features."""
        return float(np.abs(features_moved[:, low + 1:high + 1, low + 1:high + 1] - features[:, low:high, low:high]).mean() / scale)

    # Away from the border, shifting the features by one cell gives the features of the moved image
    # (measured: 3% on the central 4x4 cells, 9% on the central 8x8; the border cells are approximations).
    assert shifted_error(5, 9) < 0.05
    assert shifted_error(3, 11) < 0.15
    # Control: without the shift the maps differ by about 100%, so the check above is not vacuous.
    unshifted = float(np.abs(features_moved[:, 3:11, 3:11] - features[:, 3:11, 3:11]).mean() / scale)
    assert unshifted > 0.5


def test_cached_views_draw_one_cached_view_per_image_and_shift_it() -> None:
    rng = np.random.default_rng(0)
    views, count = 3, 40
    features = rng.normal(size=(views, count, 14, 14, 2)).astype(np.float16)
    features[..., 0] = (100 * np.arange(views)[:, None] + np.arange(count))[:, :, None, None]  # which view and image
    targets = np.eye(7)[rng.integers(0, 7, count)]
    plain = CachedViews(features, targets, batch_size=16, seed=0, feature_shift=0)
    assert len(plain) == 3
    x, y = plain[0]
    assert x.shape == (16, 14, 14, 2) and x.dtype == np.float32
    for sample, target in zip(x, y):
        view, row = divmod(int(sample[0, 0, 0]), 100)
        np.testing.assert_array_equal(sample, features[view, row])
        np.testing.assert_array_equal(target, targets[row])
    shifted = CachedViews(features, targets, batch_size=16, seed=0, feature_shift=1)
    xs, ys = shifted[0]
    np.testing.assert_array_equal(ys, y)  # same images and views: only the maps move
    np.testing.assert_array_equal(xs[..., 0], x[..., 0])
    assert not np.array_equal(xs, x)


def test_default_augmentation_is_the_second_generation_recipe() -> None:
    """Four views, random views degraded 80% of the time and shifted up to 5 px, no erasing, no feature
    shift: the CLI and the library agree (see ml/MODEL_CARD.md)."""
    defaults = {p.name: p.default for p in train_model.params}
    config = TrainConfig(data_dir=Path("."))
    assert defaults["views"] == config.views == 4
    assert defaults["erase_probability"] == config.erase_probability == 0.0
    assert defaults["feature_shift"] == config.feature_shift == 0
    assert defaults["degrade_probability"] == config.degrade_probability == 0.8
    assert defaults["max_shift_px"] == config.max_shift_px == 5.0


def sharpness(face: np.ndarray) -> float:
    """Variance of the Laplacian: falls when detail is blurred or lost."""
    return float(cv2.Laplacian(face.astype(np.float64), cv2.CV_64F).var())


@pytest.mark.parametrize("only", ["BRIGHTNESS", "CONTRAST", "BLUR", "RESAMPLE", "JPEG_QUALITY"])
def test_each_degradation_does_what_it_says(faces: np.ndarray, only: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BRIGHTNESS", "CONTRAST", "BLUR", "RESAMPLE", "JPEG_QUALITY"):
        probability, bounds = getattr(augment, name)
        if name == only == "CONTRAST":
            bounds = (1.3, 1.4)  # a factor near 1 would change nothing to check
        monkeypatch.setattr(augment, name, (1.0 if name == only else 0.0, bounds))
    rng = np.random.default_rng(4)
    for face in faces:
        out = augment.degrade(face, rng)
        assert out.shape == face.shape and out.dtype == np.uint8 and not np.array_equal(out, face)
        if only == "BRIGHTNESS":
            ratio = out.mean() / face.mean()
            assert augment.BRIGHTNESS[1][0] - 0.05 <= ratio <= augment.BRIGHTNESS[1][1] + 0.05
            assert abs(np.corrcoef(out.ravel(), face.ravel())[0, 1]) > 0.9  # the same face, only lit differently
        elif only == "CONTRAST":
            assert abs(out.mean() - face.mean()) < 12 and out.std() > face.std() * 1.1
        elif only in ("BLUR", "RESAMPLE"):
            assert sharpness(out) < sharpness(face)
        else:  # JPEG at quality 8-60: close to the face, with block artefacts
            assert np.abs(out.astype(int) - face).mean() < 20


def test_degradation_is_drawn_per_view_and_spares_the_original_and_mirror(faces: np.ndarray) -> None:
    plain = augment.make_views(faces, 4, seed=9)
    degraded = augment.make_views(faces, 4, seed=9, degrade_probability=1.0)
    np.testing.assert_array_equal(degraded[0], plain[0])
    np.testing.assert_array_equal(degraded[1], plain[1])
    assert not np.array_equal(degraded[2], plain[2]) and not np.array_equal(degraded[3], plain[3])
    again = augment.make_views(faces, 4, seed=9, degrade_probability=1.0)
    np.testing.assert_array_equal(again[3], degraded[3])


def test_shift_range_is_a_parameter(faces: np.ndarray) -> None:
    still = augment.random_affine(faces[0], np.random.default_rng(2), max_shift=0.0)
    moved = augment.random_affine(faces[0], np.random.default_rng(2), max_shift=8.0)
    assert not np.array_equal(still, moved)


def test_views_without_erasing_are_affine_copies_only(faces: np.ndarray) -> None:
    plain = augment.make_views(faces, 3, seed=5)[2]
    rng = np.random.default_rng(5)
    np.testing.assert_array_equal(plain, np.stack([augment.random_affine(face, rng) for face in faces]))


def test_random_views_are_make_views_random_views_and_redraw_afresh() -> None:
    faces = np.random.default_rng(0).integers(0, 256, size=(6, 48, 48), dtype=np.uint8)
    views = augment.make_views(faces, 3, seed=9, degrade_probability=0.5)
    again = augment.random_views(faces, np.random.default_rng(9), degrade_probability=0.5)
    np.testing.assert_array_equal(views[2], again)  # the rotating cache draws what the cache would
    fresh = augment.random_views(faces, np.random.default_rng(10), degrade_probability=0.5)
    assert fresh.shape == faces.shape and fresh.dtype == np.uint8
    assert not np.array_equal(fresh, again)
