"""Tests for recognizer.runtime: metadata checks, batched LiteRT calls, LiteRT/Keras agreement."""

import json
from pathlib import Path

import numpy as np
import pytest

from recognizer.emotions import EMOTIONS
from recognizer.errors import ModelError
from recognizer.crops import crop_square
from recognizer.faces import detect_faces
from recognizer.preprocess import faces_to_input
from recognizer.metadata import read_metadata
from recognizer.runtime import CHUNK, LiteRTClassifier, load_classifier

from tests.recognizer.conftest import write_metadata
from tests.recognizer.photos import CLASSES, fer_face, photo

pytestmark = pytest.mark.slow


def _copy_model(source: Path, directory: Path) -> Path:
    target = directory / source.name
    target.write_bytes(source.read_bytes())
    return target


@pytest.mark.parametrize(
    ("override", "words"),
    [
        ({"classes": list(reversed(EMOTIONS))}, "classes"),
        ({"classes": list(EMOTIONS[:6])}, "classes"),
        ({"input_shape": [96, 96, 3]}, "input_shape"),
        ({"preprocessing": "imagenet_caffe"}, "preprocessing"),
    ],
)
def test_metadata_mismatch_is_a_clear_error(
    plan_models: dict[str, Path], tmp_path: Path, override: dict[str, object], words: str
) -> None:
    model = _copy_model(plan_models["tflite"], tmp_path)
    write_metadata(model, **override)
    with pytest.raises(ModelError, match=words):
        load_classifier(model, num_threads=1)


def test_missing_metadata_is_a_clear_error(plan_models: dict[str, Path], tmp_path: Path) -> None:
    model = _copy_model(plan_models["tflite"], tmp_path)
    with pytest.raises(ModelError, match="metadata .* is missing"):
        load_classifier(model, num_threads=1)


def test_missing_model_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="EMOTUNE_MODEL_PATH"):
        load_classifier(tmp_path / "mobilenetv2_none_1.tflite", num_threads=1)


def test_matching_metadata_is_accepted(plan_models: dict[str, Path]) -> None:
    metadata = read_metadata(plan_models["tflite"])
    assert metadata["classes"] == list(EMOTIONS)


def _fer_batch(count_per_class: int) -> np.ndarray:
    """Real FER2013 test faces, upscaled into photos and cropped by the detector, as model input."""
    crops = []
    for emotion in CLASSES:
        for index in range(count_per_class):
            image = photo([(fer_face(index, emotion), (192, 112), 256)])
            rgb = np.asarray(image)
            found = detect_faces(rgb)
            crops.append(crop_square(rgb, found[0].box) if found else rgb[112:368, 192:448])
    return faces_to_input(crops)


def test_batched_call_equals_one_by_one(plan_models: dict[str, Path]) -> None:
    classifier = load_classifier(plan_models["tflite"], num_threads=2)
    batch = _fer_batch(1)
    together = classifier.predict(batch)
    assert together.shape == (len(batch), len(EMOTIONS))
    singles = np.concatenate([classifier.predict(batch[i : i + 1]) for i in range(len(batch))])
    np.testing.assert_allclose(together, singles, atol=1e-5)
    np.testing.assert_allclose(together.sum(axis=1), 1.0, atol=1e-5)


def test_a_batch_runs_in_fixed_chunks_without_replanning(plan_models: dict[str, Path],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    classifier = load_classifier(plan_models["tflite"], num_threads=1)
    assert isinstance(classifier, LiteRTClassifier)
    calls, resizes = [], []
    interpreter = classifier._interpreter
    invoke, resize = interpreter.invoke, interpreter.resize_tensor_input
    monkeypatch.setattr(interpreter, "invoke", lambda: (calls.append(1), invoke())[1])
    monkeypatch.setattr(interpreter, "resize_tensor_input",
                        lambda *args, **kwargs: (resizes.append(args[1]), resize(*args, **kwargs))[1])
    for views in (2 * CHUNK, 6 * CHUNK, 2 * CHUNK):  # photos with different numbers of faces
        assert classifier.predict(np.zeros((views, 224, 224, 3), dtype=np.float32)).shape == (views, len(EMOTIONS))
    assert len(calls) == 10 and [list(shape)[0] for shape in resizes] == [CHUNK]
    assert classifier.predict(np.zeros((0, 224, 224, 3), dtype=np.float32)).shape == (0, len(EMOTIONS))


def test_litert_and_keras_agree_on_real_faces(plan_models: dict[str, Path]) -> None:
    litert = load_classifier(plan_models["tflite"], num_threads=1)
    keras_model = load_classifier(plan_models["h5"], num_threads=1)
    batch = _fer_batch(3)
    lite = litert.predict(batch)
    ref = keras_model.predict(batch)
    assert np.abs(lite - ref).max() <= 1e-4
    assert (lite.argmax(axis=1) == ref.argmax(axis=1)).all()
    # The faces must actually differ in output, or agreement proves nothing.
    assert np.ptp(ref, axis=0).max() > 1e-3


def test_metadata_file_is_json_beside_model(plan_models: dict[str, Path]) -> None:
    meta = plan_models["tflite"].with_suffix(".json")
    assert json.loads(meta.read_text())["input_shape"] == [224, 224, 3]
