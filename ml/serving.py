"""How a trained model is served, decided on the validation split: class prior, temperature, bands.

The plan trains with balanced class weights, which push the model's probabilities towards rare
classes (see :mod:`recognizer.prior`). Which share of that push to take back at decision time is
chosen here, on the validation split that early stopping used, never on the test split:
the exponent in ``EXPONENTS`` with the highest validation accuracy (the smaller one on a tie).
Then a temperature is fitted on the same validation probabilities (lowest negative log-likelihood),
which calibrates the confidence without changing any decision, and the confidence bands are
measured on the calibrated probabilities (:mod:`ml.calibration`). Training calls :func:`decide`;
``flask tune-serving`` applies the same decisions to a model trained before they existed,
rebuilding that model's validation split from its metadata.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
from rich.console import Console
from rich.table import Table
from sklearn.model_selection import train_test_split

from recognizer.confidence import ConfidenceBands
from recognizer.emotions import EMOTIONS
from recognizer.metadata import read_metadata, write_metadata
from recognizer.prior import PriorCorrection
from recognizer.recipe import ServingRecipe, apply_temperature

from ml.calibration import BINS, expected_calibration_error, fit_bands, fit_temperature, negative_log_likelihood
from ml.datasets import Dataset, DatasetError, limit_classes, load_split
from ml.report import compute_metrics

EXPONENTS: Final = (0.0, 0.5, 1.0)


def validation_split(labels: np.ndarray, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the training and the validation part of a train split (stratified, seeded)."""
    train_idx, val_idx = train_test_split(np.arange(len(labels)), test_size=val_fraction,
                                          random_state=seed, stratify=labels)
    return train_idx, val_idx


@dataclass(frozen=True)
class PriorChoice:
    """The chosen correction and the validation accuracy and macro-F1 of every exponent tried."""

    correction: PriorCorrection
    scores: dict[float, tuple[float, float]]

    def to_metadata(self) -> dict[str, Any]:
        """The ``serving.class_prior`` entry, with the validation scores that decided it."""
        return {**self.correction.to_metadata(), "chosen_on": "validation split, highest accuracy",
                "validation": {str(e): {"accuracy": round(a, 4), "macro_f1": round(f, 4)}
                               for e, (a, f) in self.scores.items()}}


def choose_prior(probabilities: np.ndarray, labels: np.ndarray, train_counts: dict[str, int]) -> PriorChoice:
    """The exponent of ``EXPONENTS`` whose corrected validation ``probabilities`` are most accurate."""
    scores = {}
    for exponent in EXPONENTS:
        metrics = compute_metrics(labels, PriorCorrection.from_counts(train_counts, exponent).apply(probabilities))
        scores[exponent] = (metrics["accuracy"], metrics["macro_f1"])
    best = max(EXPONENTS, key=lambda e: (scores[e][0], -e))
    return PriorChoice(PriorCorrection.from_counts(train_counts, best), scores)


def print_choice(choice: PriorChoice, console: Console | None = None) -> None:
    """Show the validation accuracy and macro-F1 per exponent, marking the chosen one."""
    table = Table(title="class-prior exponent, chosen on the validation split")
    for column in ("exponent", "val accuracy", "val macro-F1", ""):
        table.add_column(column, justify="right")
    for exponent, (accuracy, macro_f1) in choice.scores.items():
        mark = "chosen" if exponent == choice.correction.exponent else ""
        table.add_row(f"{exponent:g}", f"{accuracy:.4f}", f"{macro_f1:.4f}", mark)
    (console or Console()).print(table)


@dataclass(frozen=True)
class ServingChoice:
    """Everything decided on the validation split: prior, temperature, bands, and the figures behind them."""

    prior: PriorChoice
    temperature: float
    bands: ConfidenceBands
    validation: dict[str, float]

    def recipe(self, mirror: bool = True) -> ServingRecipe:
        """The serving recipe these decisions make, read back from the metadata they write (rounding included),
        so that training's report and serving use exactly the same numbers."""
        return ServingRecipe.from_metadata({"serving": self.to_metadata(mirror)})

    def to_metadata(self, mirror: bool = True) -> dict[str, Any]:
        """The metadata's ``serving`` entries (``ServingRecipe.from_metadata`` reads them back)."""
        return {
            "test_time_flip": mirror,
            "class_prior": self.prior.to_metadata(),
            "temperature": {"value": round(self.temperature, 4), "fitted_on": "validation split, lowest negative log-likelihood",
                            "applied": "softmax(log(p) / T) after the class prior",
                            "validation": {key: round(value, 4) for key, value in self.validation.items()}},
            "confidence_bands": self.bands.to_metadata(),
        }


def decide(probabilities: np.ndarray, labels: np.ndarray, train_counts: dict[str, int]) -> ServingChoice:
    """Choose prior, temperature and bands from view-averaged, uncorrected validation ``probabilities``."""
    prior = choose_prior(probabilities, labels, train_counts)
    corrected = prior.correction.apply(probabilities)
    temperature = round(fit_temperature(corrected, labels), 4)
    calibrated = apply_temperature(corrected, temperature)
    validation = {"ece_before": expected_calibration_error(labels, corrected),
                  "ece_after": expected_calibration_error(labels, calibrated),
                  "nll_before": negative_log_likelihood(labels, corrected),
                  "nll_after": negative_log_likelihood(labels, calibrated)}
    return ServingChoice(prior, temperature, fit_bands(calibrated, labels), validation)


def print_decisions(choice: ServingChoice, console: Console | None = None) -> None:
    """Show the prior table, the temperature with validation ECE before and after, and the bands."""
    console = console or Console()
    print_choice(choice.prior, console)
    v = choice.validation
    console.print(f"temperature {choice.temperature:.4f} (validation): ECE ({BINS} bins) {v['ece_before']:.4f} -> "
                  f"{v['ece_after']:.4f}, NLL {v['nll_before']:.4f} -> {v['nll_after']:.4f}")
    for band in choice.bands.bands:
        console.print(f"band {band.key:>6} ({band.label}): top probability >= {band.lower:.2f}, "
                      f"validation accuracy {band.accuracy:.3f} on {band.count} faces")


def rebuild_validation(meta: dict[str, Any], data_dir: Path) -> Dataset:
    """The validation split a model was trained with, rebuilt from its metadata; refuses other data."""
    hyper = meta["hyperparameters"]
    full = limit_classes(load_split(data_dir, "train", meta["dataset"]["name"]), hyper.get("limit_per_class"), hyper["seed"])
    if full.fingerprint != meta["dataset"]["fingerprint_train"]:
        raise DatasetError(f"The train split in {data_dir} is not the one {meta['name']} was trained on (its fingerprint "
                           "differs), so its validation split cannot be rebuilt: pass the training run's --data-dir.")
    _, val_idx = validation_split(full.labels, hyper["val_fraction"], hyper["seed"])
    return Dataset(full.name, "validation", full.images[val_idx], full.labels[val_idx],
                   [full.sources[i] for i in val_idx], full.fingerprint + "/validation")


def tune_serving(model_path: Path, data_dir: Path, threads: int = 2) -> ServingChoice:
    """Decide an already trained model's prior, temperature and bands on its validation split.

    Writes them into the model's metadata (``serving``), where serving and ``flask evaluate-model``
    read them, then re-reports the test split as now served: the metadata's test metrics (the ones
    before calibration kept as ``test_uncalibrated``) and the report files.
    """
    from ml.evaluate import predict_faces, served_metrics
    from ml.report import print_metrics, write_report

    meta = read_metadata(model_path)
    validation = rebuild_validation(meta, data_dir)
    raw_recipe = ServingRecipe.from_metadata(meta).uncorrected()
    probabilities = predict_faces(model_path, validation.images, raw_recipe, threads=threads, label="predicting validation")
    train_counts = {name: int(meta["dataset"]["train_counts"][name]) for name in EMOTIONS}
    choice = decide(probabilities, validation.labels, train_counts)
    print_decisions(choice)

    test = load_split(data_dir, "test", meta["dataset"]["name"])
    test_raw = predict_faces(model_path, test.images, raw_recipe, threads=threads, label="predicting test")
    recipe = choice.recipe(raw_recipe.mirror)
    metrics = served_metrics(test.labels, recipe.correct(test_raw), recipe)
    uncalibrated = compute_metrics(test.labels, choice.prior.correction.apply(test_raw))
    stem = model_path.stem
    title = f"{stem} on {test.name} test"
    print_metrics(metrics, f"{title} ({recipe.describe()}, as served)")
    print(f"test ECE ({BINS} bins): {uncalibrated['ece']:.4f} before the temperature, {metrics['ece']:.4f} after")
    history = model_path.parent / f"{stem}_history.csv"
    files = write_report(metrics, model_path.parent, stem, f"{title} ({recipe.describe()})", history)
    meta.setdefault("serving", {}).update(choice.to_metadata(raw_recipe.mirror))
    meta["metrics"]["test"] = metrics
    meta["metrics"]["test_uncalibrated"] = {key: uncalibrated[key] for key in ("accuracy", "macro_f1", "ece", "nll")}
    meta["metrics"]["validation"] = {"accuracy": choice.prior.scores[choice.prior.correction.exponent][0],
                                     **{key: round(value, 4) for key, value in choice.validation.items()}}
    meta["report_files"] = {key: Path(value).name for key, value in files.items()}
    write_metadata(model_path, meta)
    return choice
