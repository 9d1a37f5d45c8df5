"""Tests for benchmarks.face_misses: the stage that lost a face, on photos whose faces are known."""

from pathlib import Path

from benchmarks.composites import Composite, TruthFace
from benchmarks.face_misses import summary, why_missed
from recognizer.pipeline import Recognizer

from tests.recognizer.photos import encode, fer_face, photo


def _composite(faces: list[TruthFace]) -> Composite:
    image = photo([(fer_face(0), (face.left, face.top), face.side) for face in faces], size=(1280, 960))
    return Composite(encode(image, quality=90), (1280, 960), tuple(faces))


def test_a_face_where_nothing_was_pasted_is_not_detected_and_a_pasted_one_is(plan_models: dict[str, Path]) -> None:
    recognizer = Recognizer.from_path(plan_models["tflite"], num_threads=1)
    pasted = TruthFace(200, 200, 256)
    composite = _composite([pasted])
    empty = TruthFace(900, 500, 200)  # blank canvas: no candidate there
    reasons = why_missed(recognizer, composite, [pasted, empty])
    assert reasons[0].startswith("detected and passed")
    assert reasons[1].startswith("not detected")
    assert summary(reasons + reasons[1:]) == "not detected: 2, detected and passed: 1"
