"""The robustness benchmark's conditions do what their names say, and the benchmark runs end to end."""

from pathlib import Path

import numpy as np

from benchmarks.robustness import CONDITIONS, affine, brightness, jpeg, run, sample
from recognizer.pipeline import Recognizer
from tests.recognizer.photos import CLASSES, fer_face


def _face() -> np.ndarray:
    return np.asarray(fer_face(0, "happy").convert("L"))


def test_conditions_keep_the_native_face_shape_and_type() -> None:
    face = _face()
    for name, apply in CONDITIONS.items():
        out = apply(face)
        assert out.shape == face.shape and out.dtype == np.uint8, name
        assert not np.array_equal(out, face), name


def test_brightness_jpeg_and_shift_do_what_they_say() -> None:
    face = _face()
    assert abs(brightness(0.5)(face).mean() - face.mean() / 2) < 1
    assert brightness(1.5)(face).max() <= 255 and brightness(1.5)(face).mean() > face.mean()
    assert np.abs(jpeg(95)(face).astype(int) - face).mean() < np.abs(jpeg(20)(face).astype(int) - face).mean()
    ramp = np.tile(np.arange(48, dtype=np.uint8) * 5, (48, 1))
    assert abs(int(affine(shift=0.1)(ramp)[24, 20]) - (20 - 4.8) * 5) <= 1  # moved right by 4.8 px
    assert abs(int(affine(shift=-0.1)(ramp)[24, 20]) - (20 + 4.8) * 5) <= 1


def test_sample_takes_up_to_n_per_class() -> None:
    labels = np.repeat(np.arange(7), [5, 2, 5, 5, 5, 5, 5])
    chosen = sample(labels, 3)
    assert np.bincount(labels[chosen]).tolist() == [3, 2, 3, 3, 3, 3, 3]
    np.testing.assert_array_equal(chosen, sample(labels, 3))


def test_benchmark_runs_through_the_served_recognizer(plan_models: dict[str, Path]) -> None:
    recognizer = Recognizer.from_path(plan_models["tflite"], num_threads=1)
    faces = np.stack([np.asarray(fer_face(0, emotion).convert("L")) for emotion in CLASSES])
    result = run(recognizer, faces, np.arange(len(CLASSES)))
    assert 0 <= result["clean"] <= 1 and set(result["conditions"]) == set(CONDITIONS)
