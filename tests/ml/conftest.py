"""Fixtures for the ml tests: the shared FER2013 data and ImageNet weights, and tiny datasets built from them."""

import shutil
from pathlib import Path

import pytest

from tests.prerequisites import FER2013, IMAGENET_WEIGHTS as IMAGENET, require_path

FOLDERS = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")


def _require(path: Path) -> Path:
    return require_path(path, "../shared/data beside the checkout (see README)")


@pytest.fixture(scope="session")
def fer2013_root() -> Path:
    """The shared FER2013 folder (train/ and test/ with a folder per class)."""
    return _require(FER2013)


@pytest.fixture(scope="session")
def imagenet_weights() -> Path:
    """The shared MobileNetV2 ImageNet no-top weights file."""
    return _require(IMAGENET)


def copy_small_folders(root: Path, target: Path, per_class: int, folders: tuple[str, ...] = FOLDERS,
                       rename: dict[str, str] | None = None) -> Path:
    """Copy the first ``per_class`` images of each class and split into a temporary folder layout."""
    for split in ("train", "test"):
        for folder in folders:
            destination = target / split / (rename or {}).get(folder, folder)
            destination.mkdir(parents=True, exist_ok=True)
            for source in sorted((root / split / folder).iterdir())[:per_class]:
                shutil.copy(source, destination / source.name)
    return target


@pytest.fixture
def small_folders(fer2013_root: Path, tmp_path: Path) -> Path:
    """A 3-images-per-class copy of FER2013 in the folder-per-class layout."""
    return copy_small_folders(fer2013_root, tmp_path / "fer_small", per_class=3)
