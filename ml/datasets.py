"""Labelled face datasets in their common layouts, loaded as 48x48 grayscale arrays.

Layouts:
- folder per class: ``<root>/{train,test}/<class>/*`` (FER2013 "Kaggle" layout, RAF-DB exported that way);
- RAF-DB basic: ``<root>/EmoLabel/list_patition_label.txt`` naming ``train_*``/``test_*`` images with
  labels 1-7, images under ``<root>/Image/aligned`` (``*_aligned.jpg``) or ``<root>/Image/original``;
- FER2013's ``fer2013.csv`` (columns emotion, pixels, Usage).

Every image becomes uint8 48x48 luminance (FER2013's native form); the shared preprocessing in
``recognizer.preprocess`` upscales it for the network. Nothing is skipped silently: an unknown class,
an empty class or an unreadable image is a :class:`DatasetError` naming it.
"""

import csv
import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from recognizer.emotions import EMOTIONS
from recognizer.preprocess import FER_SIZE

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})

# Lower-case folder/label spellings seen in public releases, mapped to our class names.
CLASS_ALIASES: dict[str, str] = {
    **{name.lower(): name for name in EMOTIONS},
    "anger": "Angry", "angry": "Angry", "mad": "Angry",
    "disgusted": "Disgust", "disgust": "Disgust",
    "fearful": "Fear", "scared": "Fear", "afraid": "Fear",
    "happiness": "Happy", "happy": "Happy", "joy": "Happy",
    "neutrality": "Neutral",
    "sadness": "Sad", "sad": "Sad", "unhappy": "Sad",
    "surprised": "Surprise", "surprise": "Surprise",
}

# RAF-DB basic labels 1-7 mean: Surprise, Fear, Disgust, Happiness, Sadness, Anger, Neutral.
RAFDB_LABELS: dict[int, str] = {1: "Surprise", 2: "Fear", 3: "Disgust", 4: "Happy", 5: "Sad", 6: "Angry", 7: "Neutral"}

# FER2013 csv emotion codes 0-6: Angry, Disgust, Fear, Happy, Sad, Surprise, Neutral.
FER2013_CSV_LABELS: dict[int, str] = {0: "Angry", 1: "Disgust", 2: "Fear", 3: "Happy", 4: "Sad", 5: "Surprise", 6: "Neutral"}
FER2013_CSV_USAGE: dict[str, str] = {"train": "Training", "test": "PublicTest", "private": "PrivateTest"}


class DatasetError(ValueError):
    """A dataset that cannot be used as it is; the message names the folder, file or class."""


@dataclass
class Dataset:
    """One split of a dataset: images (N, 48, 48) uint8, labels (N,) class indices into EMOTIONS."""

    name: str
    split: str
    images: np.ndarray
    labels: np.ndarray
    sources: list[str] = field(default_factory=list)
    fingerprint: str = ""

    def counts(self) -> dict[str, int]:
        """Images per class, in EMOTIONS order."""
        found = Counter(int(label) for label in self.labels)
        return {name: found.get(index, 0) for index, name in enumerate(EMOTIONS)}

    def __len__(self) -> int:
        return len(self.labels)


def class_index(name: str, where: str) -> int:
    """Index in EMOTIONS of a class folder or label name, matched case-insensitively with aliases."""
    canonical = CLASS_ALIASES.get(name.strip().lower())
    if canonical is None:
        raise DatasetError(
            f"Unknown class '{name}' in {where}. Expected one of {', '.join(EMOTIONS)} "
            f"(or a usual alias such as anger, happiness, sadness, surprised)."
        )
    return EMOTIONS.index(canonical)


def decode_gray(data: bytes, source: str) -> np.ndarray:
    """Decode image bytes to 48x48 uint8 luminance, or raise DatasetError naming the file."""
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_GRAYSCALE) if data else None
    if image is None:
        raise DatasetError(f"Unreadable image: {source}. Remove or replace the file and run again.")
    if image.shape != (FER_SIZE, FER_SIZE):
        image = cv2.resize(image, (FER_SIZE, FER_SIZE), interpolation=cv2.INTER_AREA)
    return image


def guess_dataset_name(root: Path) -> str:
    """A short dataset name for file names, from the folder (``fer2013``, ``rafdb``, ...)."""
    name = "".join(ch for ch in root.resolve().name.lower() if ch.isalnum())
    if "raf" in name:
        return "rafdb"
    return name or "dataset"


def detect_layout(root: Path) -> str:
    """Which of the supported layouts ``root`` holds: 'folders', 'rafdb' or 'fer2013csv'."""
    if (root / "EmoLabel" / "list_patition_label.txt").is_file():
        return "rafdb"
    if (root / "fer2013.csv").is_file():
        return "fer2013csv"
    if (root / "train").is_dir() or (root / "test").is_dir():
        return "folders"
    raise DatasetError(
        f"No dataset found in {root}: expected train/ and test/ folders with a folder per class, "
        "EmoLabel/list_patition_label.txt (RAF-DB), or fer2013.csv."
    )


def load_split(root: Path | str, split: str, name: str | None = None) -> Dataset:
    """Load one split ('train' or 'test'; 'private' too for fer2013.csv) of the dataset at ``root``."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"Dataset folder {root} does not exist. Pass --data-dir with the dataset's folder.")
    layout = detect_layout(root)
    loader = {"folders": _load_folders, "rafdb": _load_rafdb, "fer2013csv": _load_fer2013_csv}[layout]
    images, labels, sources, digest = loader(root, split)
    if not labels:
        raise DatasetError(f"The {split} split of {root} holds no images.")
    return Dataset(
        name=name or guess_dataset_name(root),
        split=split,
        images=np.stack(images),
        labels=np.asarray(labels, dtype=np.int64),
        sources=sources,
        fingerprint=digest.hexdigest(),
    )


Loaded = tuple[list[np.ndarray], list[int], list[str], "hashlib._Hash"]


def _load_folders(root: Path, split: str) -> Loaded:
    split_dir = root / split
    if not split_dir.is_dir():
        raise DatasetError(f"Missing split folder {split_dir}: expected {root}/{{train,test}}/<class>/*.")
    images: list[np.ndarray] = []
    labels: list[int] = []
    sources: list[str] = []
    digest = hashlib.sha256()
    seen: set[int] = set()
    for class_dir in sorted(p for p in split_dir.iterdir() if not p.name.startswith(".")):
        if not class_dir.is_dir():
            raise DatasetError(f"Unexpected file {class_dir}: {split_dir} should hold only one folder per class.")
        label = class_index(class_dir.name, str(class_dir))
        files = sorted(p for p in class_dir.iterdir() if p.is_file() and not p.name.startswith("."))
        if not files:
            raise DatasetError(f"Class folder {class_dir} is empty: add images or remove the folder.")
        seen.add(label)
        for path in files:
            data = path.read_bytes()
            images.append(decode_gray(data, str(path)))
            labels.append(label)
            sources.append(str(path.relative_to(root)))
            digest.update(f"{path.relative_to(root)}:{label}:".encode())
            digest.update(hashlib.sha1(data).digest())
    _require_all_classes(seen, str(split_dir), split)
    return images, labels, sources, digest


def _rafdb_image(root: Path, filename: str) -> Path:
    stem, suffix = filename.rsplit(".", 1)
    for candidate in (root / "Image" / "aligned" / f"{stem}_aligned.{suffix}", root / "Image" / "original" / filename,
                      root / "Image" / filename):
        if candidate.is_file():
            return candidate
    raise DatasetError(f"RAF-DB image {filename} listed in EmoLabel/list_patition_label.txt was not found under {root / 'Image'}.")


def _load_rafdb(root: Path, split: str) -> Loaded:
    label_file = root / "EmoLabel" / "list_patition_label.txt"
    images: list[np.ndarray] = []
    labels: list[int] = []
    sources: list[str] = []
    digest = hashlib.sha256()
    seen: set[int] = set()
    for number, line in enumerate(label_file.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            filename, raw_label = line.split()
            rafdb_label = int(raw_label)
        except ValueError:
            raise DatasetError(f"{label_file}:{number}: expected '<image name> <label 1-7>', got {line!r}.") from None
        if rafdb_label not in RAFDB_LABELS:
            raise DatasetError(f"{label_file}:{number}: label {rafdb_label} is not one of RAF-DB's 1-7.")
        if not filename.startswith(f"{split}_"):
            continue
        path = _rafdb_image(root, filename)
        data = path.read_bytes()
        label = EMOTIONS.index(RAFDB_LABELS[rafdb_label])
        images.append(decode_gray(data, str(path)))
        labels.append(label)
        sources.append(str(path.relative_to(root)))
        seen.add(label)
        digest.update(f"{filename}:{label}:".encode())
        digest.update(hashlib.sha1(data).digest())
    _require_all_classes(seen, str(label_file), split)
    return images, labels, sources, digest


def _load_fer2013_csv(root: Path, split: str) -> Loaded:
    csv_path = root / "fer2013.csv"
    usage = FER2013_CSV_USAGE.get(split)
    if usage is None:
        raise DatasetError(f"fer2013.csv has no split '{split}': use one of {', '.join(FER2013_CSV_USAGE)}.")
    images: list[np.ndarray] = []
    labels: list[int] = []
    sources: list[str] = []
    digest = hashlib.sha256()
    seen: set[int] = set()
    with csv_path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"emotion", "pixels", "Usage"} - set(reader.fieldnames or [])
        if missing:
            raise DatasetError(f"{csv_path} lacks the column(s) {', '.join(sorted(missing))}.")
        for row_number, row in enumerate(reader, start=2):
            if row["Usage"].strip() != usage:
                continue
            where = f"{csv_path}, row {row_number}"
            try:
                label = EMOTIONS.index(FER2013_CSV_LABELS[int(row["emotion"])])
                pixels = np.array(row["pixels"].split(), dtype=np.uint8)
            except (KeyError, ValueError):
                raise DatasetError(f"Unreadable image at {where}: emotion must be 0-6 and pixels 0-255 integers.") from None
            if pixels.size != FER_SIZE * FER_SIZE:
                raise DatasetError(f"Unreadable image at {where}: {pixels.size} pixels, expected {FER_SIZE * FER_SIZE}.")
            images.append(pixels.reshape(FER_SIZE, FER_SIZE))
            labels.append(label)
            sources.append(f"fer2013.csv:{row_number}")
            seen.add(label)
            digest.update(f"{row_number}:{label}:".encode())
            digest.update(pixels.tobytes())
    _require_all_classes(seen, str(csv_path), split)
    return images, labels, sources, digest


def _require_all_classes(seen: Iterable[int], where: str, split: str) -> None:
    missing = [EMOTIONS[i] for i in range(len(EMOTIONS)) if i not in set(seen)]
    if missing:
        raise DatasetError(f"The {split} split in {where} has no images of class(es) {', '.join(missing)}: every class needs examples.")


def limit_classes(data: Dataset, per_class: int | None, seed: int) -> Dataset:
    """Keep at most ``per_class`` images of each class (for quick runs), chosen reproducibly."""
    if per_class is None:
        return data
    rng = np.random.default_rng(seed)
    keep = np.concatenate([rng.permutation(np.flatnonzero(data.labels == c))[:per_class] for c in range(len(EMOTIONS))])
    keep.sort()
    return Dataset(data.name, data.split, data.images[keep], data.labels[keep],
                   [data.sources[i] for i in keep], data.fingerprint + f"/first{per_class}")
