"""How a trained model is served, decided on the validation split: the class-prior exponent.

The plan trains with balanced class weights, which push the model's probabilities towards rare
classes (see :mod:`recognizer.prior`). Which share of that push to take back at decision time is
chosen here, on the validation split that early stopping used, never on the test split:
the exponent in ``EXPONENTS`` with the highest validation accuracy (the smaller one on a tie).
Training calls :func:`choose_prior`; ``flask tune-serving`` applies the same choice to a model
trained before it existed, rebuilding that model's validation split from its metadata.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
from rich.console import Console
from rich.table import Table
from sklearn.model_selection import train_test_split

from recognizer.emotions import EMOTIONS
from recognizer.prior import PriorCorrection
from recognizer.runtime import mirror_averaging

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


def tune_serving(model_path: Path, data_dir: Path, threads: int = 2) -> PriorChoice:
    """Choose the class-prior exponent of an already trained model on its validation split.

    Writes the choice into the model's metadata (``serving.class_prior``), where serving and
    ``flask evaluate-model`` read it, then re-reports the test split as now served: the metadata's
    test metrics (the uncorrected ones kept as ``test_mirror_averaged``) and the report files.
    """
    from ml.evaluate import predict_dataset
    from ml.report import print_metrics, write_report

    meta_path = model_path.with_suffix(".json")
    meta = json.loads(meta_path.read_text())
    validation = rebuild_validation(meta, data_dir)
    flip = mirror_averaging(meta.get("serving", {}))
    probabilities = predict_dataset(model_path, validation.images, flip=flip, threads=threads, label="predicting validation")
    train_counts = {name: int(meta["dataset"]["train_counts"][name]) for name in EMOTIONS}
    choice = choose_prior(probabilities, validation.labels, train_counts)
    print_choice(choice)

    test = load_split(data_dir, "test", meta["dataset"]["name"])
    test_probabilities = predict_dataset(model_path, test.images, flip=flip, threads=threads, label="predicting test")
    metrics = compute_metrics(test.labels, choice.correction.apply(test_probabilities))
    stem = model_path.stem
    title = f"{stem} on {test.name} test"
    print_metrics(metrics, f"{title}, class prior^{choice.correction.exponent:g} (as served)")
    history = model_path.parent / f"{stem}_history.csv"
    files = write_report(metrics, model_path.parent, stem, title, history)
    meta.setdefault("serving", {})["class_prior"] = choice.to_metadata()
    meta["metrics"].setdefault("test_mirror_averaged", compute_metrics(test.labels, test_probabilities))
    meta["metrics"]["test"] = metrics
    meta["report_files"] = {key: Path(value).name for key, value in files.items()}
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    return choice
