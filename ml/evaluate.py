"""Evaluate a saved model (.h5 through Keras, .tflite through LiteRT) on a dataset split, as served.

Predictions go through :class:`recognizer.recipe.ServingRecipe`, the code the worker serves with:
this module only feeds it faces in batches.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from recognizer.recipe import ServingRecipe
from recognizer.runtime import KerasClassifier, LiteRTClassifier

from ml.calibration import band_report
from ml.datasets import load_split
from ml.features import batches
from ml.report import compute_metrics, print_metrics, write_report


def model_runner(model_path: Path, threads: int = 2) -> Callable[[np.ndarray], np.ndarray]:
    """A batch -> probabilities function for a .tflite or .h5 model file."""
    # The serving runtime's classes, without its metadata check: training evaluates its export
    # before the metadata is written.
    if model_path.suffix == ".tflite":
        return LiteRTClassifier(model_path, threads).predict
    return KerasClassifier(model_path).predict


def predict_faces(model_path: Path | str, images: np.ndarray, recipe: ServingRecipe, threads: int = 2,
                  label: str | None = None) -> np.ndarray:
    """(N, 7) probabilities for (N, 48, 48) faces by ``recipe``, in batches of 64 faces."""
    run = model_runner(Path(model_path), threads)
    result = np.empty((len(images), 7), dtype=np.float64)
    for part in tqdm(list(batches(len(images))), desc=label, unit="batch", disable=label is None, mininterval=5):
        result[part] = recipe.predict(run, list(images[part]))
    return result


def predict_as_served(model_path: Path, images: np.ndarray, threads: int = 2,
                      label: str | None = None) -> tuple[np.ndarray, ServingRecipe]:
    """Probabilities for (N, 48, 48) faces exactly as the service computes them, and the recipe used."""
    recipe = ServingRecipe.for_model(model_path)
    return predict_faces(model_path, images, recipe, threads=threads, label=label), recipe


def served_metrics(labels: np.ndarray, probabilities: np.ndarray, recipe: ServingRecipe) -> dict[str, Any]:
    """The report's metrics, plus how each confidence band of the recipe does on these faces."""
    metrics = compute_metrics(labels, probabilities)
    if recipe.bands is not None:
        metrics["bands"] = band_report(recipe.bands, probabilities, labels)
    return metrics


def evaluate(model_path: Path, data_dir: Path, split: str, report_dir: Path, threads: int = 2) -> dict[str, Any]:
    """Evaluate ``model_path`` on ``split`` of ``data_dir`` as served; print and write the report files."""
    data = load_split(data_dir, split)
    probabilities, recipe = predict_as_served(model_path, data.images, threads=threads, label=f"evaluating {split}")
    metrics = served_metrics(data.labels, probabilities, recipe)
    title = f"{model_path.stem} on {data.name} {split} ({recipe.describe()})"
    print_metrics(metrics, title)
    stem = f"{model_path.stem}_{data.name}_{split}"
    metrics["report_files"] = write_report(metrics, report_dir, stem, title)
    return metrics
