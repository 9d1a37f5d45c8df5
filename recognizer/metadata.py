"""A model's metadata file, ``<stem>.json`` beside it: where it lives, reading it with its schema checked, writing it.

Every reader and writer of model metadata goes through this module: the recognizer, training,
serving decisions, ensembles, the start-up report and the benchmarks. A file whose classes, input
shape or preprocessing disagree with this recognizer is refused on reading and never written.
"""

import json
from pathlib import Path
from typing import Any, Final

from recognizer.emotions import EMOTIONS
from recognizer.errors import ModelError
from recognizer.preprocess import INPUT_SIZE, PREPROCESSING

INPUT_SHAPE: Final = (INPUT_SIZE, INPUT_SIZE, 3)


def metadata_path(model_path: Path | str) -> Path:
    """Where a model's metadata JSON lives: ``<stem>.json`` beside it."""
    return Path(model_path).with_suffix(".json")


def read_metadata(model_path: Path | str) -> dict[str, Any]:
    """Read and check ``<stem>.json`` beside the model; raise ModelError saying what disagrees."""
    meta_path = metadata_path(model_path)
    try:
        metadata = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelError(f"Model metadata {meta_path} is missing; it must sit beside {Path(model_path).name}") from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"Model metadata {meta_path} is unreadable: {exc}") from exc
    check_metadata(metadata, meta_path)
    return metadata


def check_metadata(metadata: Any, where: Path | str) -> None:
    """Raise ModelError saying what in ``metadata`` (from or for ``where``) disagrees with this recognizer."""
    if not isinstance(metadata, dict):
        raise ModelError(f"Model metadata {where} must be a JSON object")
    problems = []
    if list(metadata.get("classes", [])) != list(EMOTIONS):
        problems.append(f"classes are {metadata.get('classes')!r}, expected {list(EMOTIONS)!r} in that order")
    if list(metadata.get("input_shape", [])) != list(INPUT_SHAPE):
        problems.append(f"input_shape is {metadata.get('input_shape')!r}, expected {list(INPUT_SHAPE)!r}")
    if metadata.get("preprocessing") != PREPROCESSING:
        problems.append(f"preprocessing is {metadata.get('preprocessing')!r}, expected {PREPROCESSING!r}")
    if problems:
        raise ModelError(f"Model metadata {where} disagrees with this recognizer: " + "; ".join(problems))


def write_metadata(model_path: Path | str, metadata: dict[str, Any]) -> Path:
    """Check ``metadata`` and write it as ``<stem>.json`` beside the model; returns its path."""
    path = metadata_path(model_path)
    check_metadata(metadata, path)
    path.write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
    return path
