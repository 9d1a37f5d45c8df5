"""Dataset layouts, the class mapping, and the errors that name what is wrong."""

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest

from ml.datasets import (FER2013_CSV_LABELS, RAFDB_LABELS, DatasetError, class_index, detect_layout,
                         guess_dataset_name, load_split)
from recognizer.emotions import EMOTIONS

from .conftest import FOLDERS, copy_small_folders


def test_folder_layout_loads_every_class_as_48x48_gray(small_folders: Path) -> None:
    data = load_split(small_folders, "train", "tiny")
    assert data.images.shape == (21, 48, 48) and data.images.dtype == np.uint8
    assert data.counts() == {name: 3 for name in EMOTIONS}
    assert data.name == "tiny" and len(data.fingerprint) == 64


def test_fingerprint_changes_when_an_image_changes(small_folders: Path) -> None:
    before = load_split(small_folders, "train").fingerprint
    victim = next((small_folders / "train" / "happy").iterdir())
    image = cv2.imread(str(victim), cv2.IMREAD_GRAYSCALE)
    cv2.imwrite(str(victim), 255 - image)
    assert load_split(small_folders, "train").fingerprint != before


def test_class_folders_match_aliases_case_insensitively(fer2013_root: Path, tmp_path: Path) -> None:
    rename = {"angry": "Anger", "happy": "HAPPINESS", "sad": "sadness", "surprise": "Surprised", "fear": "fearful"}
    root = copy_small_folders(fer2013_root, tmp_path / "aliases", 2, rename=rename)
    data = load_split(root, "test")
    assert data.counts() == {name: 2 for name in EMOTIONS}
    # The label of each image is the class of the folder it came from, not of its position.
    happy = [label for label, source in zip(data.labels, data.sources) if "HAPPINESS" in source]
    assert set(happy) == {EMOTIONS.index("Happy")}


@pytest.mark.parametrize("alias, expected", [("anger", "Angry"), ("Disgusted", "Disgust"), ("SADNESS", "Sad"),
                                             ("surprised", "Surprise"), ("happiness", "Happy"), ("Neutral", "Neutral")])
def test_class_index_aliases(alias: str, expected: str) -> None:
    assert EMOTIONS[class_index(alias, "here")] == expected


def test_unknown_class_folder_is_named(small_folders: Path) -> None:
    (small_folders / "train" / "contempt").mkdir()
    (small_folders / "train" / "contempt" / "x.jpg").write_bytes(b"")
    with pytest.raises(DatasetError, match="Unknown class 'contempt'"):
        load_split(small_folders, "train")


def test_empty_class_folder_is_named(small_folders: Path) -> None:
    for image in (small_folders / "train" / "disgust").iterdir():
        image.unlink()
    with pytest.raises(DatasetError, match=r"disgust is empty"):
        load_split(small_folders, "train")


def test_missing_class_is_an_error(fer2013_root: Path, tmp_path: Path) -> None:
    root = copy_small_folders(fer2013_root, tmp_path / "six", 2, folders=FOLDERS[:-1])
    with pytest.raises(DatasetError, match="no images of class\\(es\\) Surprise"):
        load_split(root, "train")


def test_unreadable_image_is_named_not_skipped(small_folders: Path) -> None:
    bad = small_folders / "train" / "sad" / "renamed_text.jpg"
    bad.write_text("this is not a picture")
    with pytest.raises(DatasetError, match="Unreadable image: .*renamed_text.jpg"):
        load_split(small_folders, "train")


def test_no_dataset_folder_says_what_is_expected(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="expected train/ and test/"):
        detect_layout(tmp_path)


def _fer_faces(root: Path, split: str, per_class: int) -> list[tuple[str, np.ndarray]]:
    faces = []
    for folder in FOLDERS:
        for source in sorted((root / split / folder).iterdir())[:per_class]:
            faces.append((folder, cv2.imread(str(source), cv2.IMREAD_GRAYSCALE)))
    return faces


def test_rafdb_layout_maps_labels_to_our_order(fer2013_root: Path, tmp_path: Path) -> None:
    root = tmp_path / "RAF-DB" / "basic"
    (root / "EmoLabel").mkdir(parents=True)
    (root / "Image" / "aligned").mkdir(parents=True)
    ours_to_raf = {name: number for number, name in RAFDB_LABELS.items()}
    folder_to_class = dict(zip(FOLDERS, EMOTIONS))
    lines = []
    for split in ("train", "test"):
        for index, (folder, face) in enumerate(_fer_faces(fer2013_root, split, 2)):
            name = f"{split}_{index:05d}"
            colour = cv2.resize(cv2.cvtColor(face, cv2.COLOR_GRAY2BGR), (100, 100))  # RAF-DB: 100x100 colour
            cv2.imwrite(str(root / "Image" / "aligned" / f"{name}_aligned.jpg"), colour)
            lines.append(f"{name}.jpg {ours_to_raf[folder_to_class[folder]]}")
    (root / "EmoLabel" / "list_patition_label.txt").write_text("\n".join(lines) + "\n")
    assert detect_layout(root) == "rafdb"
    data = load_split(root, "train")
    assert guess_dataset_name(root.parent) == "rafdb"
    assert data.images.shape == (14, 48, 48)
    # Images were written in FOLDERS order, two each, so labels follow EMOTIONS order two by two.
    assert data.labels.tolist() == [i for i in range(7) for _ in range(2)]


def test_rafdb_label_meanings() -> None:
    assert [RAFDB_LABELS[n] for n in range(1, 8)] == ["Surprise", "Fear", "Disgust", "Happy", "Sad", "Angry", "Neutral"]


def test_fer2013_csv_layout(fer2013_root: Path, tmp_path: Path) -> None:
    code_of = {name: code for code, name in FER2013_CSV_LABELS.items()}
    rows = []
    for split, usage in (("train", "Training"), ("test", "PublicTest")):
        for folder, face in _fer_faces(fer2013_root, split, 1):
            rows.append({"emotion": code_of[dict(zip(FOLDERS, EMOTIONS))[folder]],
                         "pixels": " ".join(map(str, face.flatten())), "Usage": usage})
    root = tmp_path / "csv"
    root.mkdir()
    with (root / "fer2013.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["emotion", "pixels", "Usage"])
        writer.writeheader()
        writer.writerows(rows)
    data = load_split(root, "test")
    assert data.labels.tolist() == list(range(7))
    first = cv2.imread(str(sorted((fer2013_root / "test" / "angry").iterdir())[0]), cv2.IMREAD_GRAYSCALE)
    assert np.array_equal(data.images[0], first)


def test_fer2013_csv_bad_row_is_named(tmp_path: Path) -> None:
    (tmp_path / "fer2013.csv").write_text("emotion,pixels,Usage\n3,1 2 3,Training\n")
    with pytest.raises(DatasetError, match="row 2: 3 pixels"):
        load_split(tmp_path, "train")
