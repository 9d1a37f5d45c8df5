"""The test-time views of benchmarks.extra_views: shifts move the face, the zoom enlarges its centre."""

import numpy as np

from benchmarks.extra_views import shifted, zoomed


def test_a_shift_moves_every_pixel_and_repeats_the_edge() -> None:
    faces = np.arange(2 * 48 * 48, dtype=np.uint8).reshape(2, 48, 48)
    right = shifted(faces, 1, 0)
    np.testing.assert_array_equal(right[:, :, 1:], faces[:, :, :-1])
    np.testing.assert_array_equal(right[:, :, 0], faces[:, :, 0])
    down = shifted(faces, 0, 2)
    np.testing.assert_array_equal(down[:, 2:], faces[:, :-2])


def test_the_zoom_keeps_the_size_and_scales_the_centre() -> None:
    face = np.zeros((1, 48, 48), dtype=np.uint8)
    face[0, 12:36, 12:36] = 255  # a 24 px square in the middle
    zoom = zoomed(face)
    assert zoom.shape == face.shape
    # The square grows by 48/44 in each direction: about 1.19x the brightness in all.
    growth = zoom.astype(float).sum() / face.astype(float).sum()
    assert 1.12 < growth < 1.26
