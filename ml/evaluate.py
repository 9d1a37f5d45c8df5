"""Evaluate a saved model (.h5 through Keras, .tflite through LiteRT) on a dataset split, as served."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from recognizer.prior import PriorCorrection
from recognizer.runtime import KerasClassifier, LiteRTClassifier, mirror_averaging

from ml.augment import mirror
from ml.datasets import load_split
from ml.features import run_on_faces
from ml.report import compute_metrics, print_metrics, write_report


def model_runner(model_path: Path, threads: int = 2) -> Callable[[np.ndarray], np.ndarray]:
    """A batch -> probabilities function for a .tflite or .h5 model file."""
    # The serving runtime's classes, without its metadata check: training evaluates its export
    # before the metadata is written.
    if model_path.suffix == ".tflite":
        return LiteRTClassifier(model_path, threads).predict
    return KerasClassifier(model_path).predict


def predict_dataset(model_path: Path | str, images: np.ndarray, flip: bool, threads: int = 2,
                    label: str | None = None) -> np.ndarray:
    """Class probabilities for (N, 48, 48) faces; with ``flip``, averaged with their mirror images."""
    run = model_runner(Path(model_path), threads)
    probabilities = run_on_faces(run, images, label=label)
    if flip:
        probabilities = (probabilities + run_on_faces(run, mirror(images), label=label)) / 2
    return probabilities


def serving_metadata(model_path: Path) -> dict[str, Any]:
    """The ``serving`` part of the metadata beside ``model_path`` (empty when there is none)."""
    meta_path = model_path.with_suffix(".json")
    if meta_path.is_file():
        return dict(json.loads(meta_path.read_text()).get("serving", {}))
    return {}


def uses_flip(model_path: Path) -> bool:
    """Whether the model's metadata says it is served with mirror averaging (default: yes)."""
    return mirror_averaging(serving_metadata(model_path))


def predict_as_served(model_path: Path, images: np.ndarray, threads: int = 2, label: str | None = None) -> tuple[np.ndarray, str]:
    """Probabilities for (N, 48, 48) faces exactly as the service computes them, and how, in words."""
    serving = serving_metadata(model_path)
    flip = mirror_averaging(serving)
    probabilities = predict_dataset(model_path, images, flip=flip, threads=threads, label=label)
    how = "original + mirror averaged" if flip else "single pass"
    prior = PriorCorrection.from_metadata(serving)
    if prior is not None:
        probabilities = prior.apply(probabilities)
        how += f", class prior^{prior.exponent:g}"
    return probabilities, how


def evaluate(model_path: Path, data_dir: Path, split: str, report_dir: Path, threads: int = 2) -> dict[str, Any]:
    """Evaluate ``model_path`` on ``split`` of ``data_dir`` as served; print and write the report files."""
    data = load_split(data_dir, split)
    probabilities, how = predict_as_served(model_path, data.images, threads=threads, label=f"evaluating {split}")
    metrics = compute_metrics(data.labels, probabilities)
    title = f"{model_path.stem} on {data.name} {split} ({how})"
    print_metrics(metrics, title)
    stem = f"{model_path.stem}_{data.name}_{split}"
    metrics["report_files"] = write_report(metrics, report_dir, stem, title)
    return metrics
