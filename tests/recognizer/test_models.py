"""Tests for recognizer.models: which model file is served by default."""

import os
from pathlib import Path

import pytest

from recognizer.models import POINTER_NAME, PointerError, find_default_model, read_pointer, resolve_model_path, write_pointer


def _touch(directory: Path, name: str, mtime: float = 1_000_000.0) -> Path:
    path = directory / name
    path.write_bytes(b"model")
    os.utime(path, (mtime, mtime))
    return path


def test_prefers_tflite_and_highest_run_number(tmp_path: Path) -> None:
    _touch(tmp_path, "mobilenetv2_fer2013_3.h5")
    _touch(tmp_path, "mobilenetv2_fer2013_1.tflite")
    newest = _touch(tmp_path, "mobilenetv2_fer2013_2.tflite")
    _touch(tmp_path, "other_model_9.tflite")
    assert find_default_model(tmp_path) == newest


def test_run_number_beats_modification_time(tmp_path: Path) -> None:
    # A fresh clone gives every file the same (or arbitrary) modification time.
    _touch(tmp_path, "mobilenetv2_fer2013_1.h5", mtime=2_000_000.0)
    second = _touch(tmp_path, "mobilenetv2_fer2013_2.h5", mtime=1_000_000.0)
    assert find_default_model(tmp_path) == second


def test_falls_back_to_h5_and_then_none(tmp_path: Path) -> None:
    assert find_default_model(tmp_path) is None
    assert find_default_model(tmp_path / "missing") is None
    h5 = _touch(tmp_path, "mobilenetv2_rafdb_1.h5")
    assert find_default_model(tmp_path) == h5


def test_configured_path_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _touch(tmp_path, "mobilenetv2_fer2013_1.tflite")
    assert resolve_model_path(tmp_path, "/explicit.h5") == Path("/explicit.h5")
    # The library never reads the environment: the app's configuration passes the path in.
    monkeypatch.setenv("EMOTUNE_MODEL_PATH", "/somewhere/model.tflite")
    assert resolve_model_path(tmp_path) == tmp_path / "mobilenetv2_fer2013_1.tflite"


def test_the_served_pointer_names_the_model_whatever_is_newer(tmp_path: Path) -> None:
    served = _touch(tmp_path, "mobilenetv2_fer2013_2.tflite")
    _touch(tmp_path, "mobilenetv2_fer2013_7.tflite", mtime=2_000_000.0)
    assert write_pointer(served) == tmp_path / POINTER_NAME
    assert (tmp_path / POINTER_NAME).read_text() == "mobilenetv2_fer2013_2.tflite\n"
    assert find_default_model(tmp_path) == served
    # A pointer naming a file that is not there says so when it is loaded, rather than serving another.
    (tmp_path / POINTER_NAME).write_text("mobilenetv2_fer2013_9.tflite\n")
    assert find_default_model(tmp_path) == tmp_path / "mobilenetv2_fer2013_9.tflite"


def test_a_pointer_must_name_a_file_of_its_own_folder(tmp_path: Path) -> None:
    (tmp_path / POINTER_NAME).write_text("../elsewhere/model.tflite\n")
    with pytest.raises(PointerError, match="one model file name"):
        read_pointer(tmp_path)
