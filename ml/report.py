"""Evaluation report: accuracy, per-class precision/recall/F1, macro-F1, confusion matrix; table, JSON, plots."""

import csv
import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only; no display on servers
import matplotlib.pyplot as plt
import numpy as np
from rich.console import Console
from rich.table import Table
from sklearn.metrics import ConfusionMatrixDisplay, accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from recognizer.emotions import EMOTIONS


def compute_metrics(labels: np.ndarray, probabilities: np.ndarray) -> dict[str, Any]:
    """Metrics of predictions (argmax of ``probabilities``) against true class indices."""
    predicted = probabilities.argmax(axis=1)
    classes = list(range(len(EMOTIONS)))
    precision, recall, f1, support = precision_recall_fscore_support(labels, predicted, labels=classes, zero_division=0)
    return {
        "accuracy": float(accuracy_score(labels, predicted)),
        "macro_f1": float(f1_score(labels, predicted, labels=classes, average="macro", zero_division=0)),
        "per_class": {
            name: {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]), "support": int(support[i])}
            for i, name in enumerate(EMOTIONS)
        },
        "confusion_matrix": confusion_matrix(labels, predicted, labels=classes).tolist(),
        "classes": list(EMOTIONS),
        "count": int(len(labels)),
    }


def print_metrics(metrics: dict[str, Any], title: str, console: Console | None = None) -> None:
    """Print the per-class table, the summary line and the confusion matrix."""
    console = console or Console()
    table = Table(title=title)
    for column in ("class", "precision", "recall", "F1", "support"):
        table.add_column(column, justify="left" if column == "class" else "right")
    for name, row in metrics["per_class"].items():
        table.add_row(name, f"{row['precision']:.3f}", f"{row['recall']:.3f}", f"{row['f1']:.3f}", str(row["support"]))
    console.print(table)
    console.print(f"accuracy {metrics['accuracy']:.4f}   macro-F1 {metrics['macro_f1']:.4f}   images {metrics['count']}")
    matrix = Table(title="confusion matrix (rows: true, columns: predicted)")
    matrix.add_column("")
    for name in EMOTIONS:
        matrix.add_column(name[:4], justify="right")
    for name, row in zip(EMOTIONS, metrics["confusion_matrix"]):
        matrix.add_row(name, *(str(v) for v in row))
    console.print(matrix)


def plot_confusion_matrix(metrics: dict[str, Any], path: Path, title: str) -> Path:
    """Save a row-normalised confusion-matrix heatmap with counts."""
    matrix = np.asarray(metrics["confusion_matrix"])
    fig, ax = plt.subplots(figsize=(7.5, 6.5))
    normalised = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    ConfusionMatrixDisplay(normalised, display_labels=list(EMOTIONS)).plot(ax=ax, cmap="Blues", values_format=".2f", colorbar=True)
    ax.set_title(f"{title}\naccuracy {metrics['accuracy']:.3f}, macro-F1 {metrics['macro_f1']:.3f} (rows sum to 1)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_training_curves(history_csv: Path, path: Path) -> Path:
    """Save loss and accuracy per epoch (train and validation) from Keras's CSVLogger file."""
    with history_csv.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    epochs = [int(r["epoch"]) + 1 for r in rows]
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(11, 4))
    for ax, key, label in ((loss_ax, "loss", "loss"), (acc_ax, "accuracy", "accuracy")):
        ax.plot(epochs, [float(r[key]) for r in rows], marker="o", label=f"train {label}")
        ax.plot(epochs, [float(r[f"val_{key}"]) for r in rows], marker="o", label=f"validation {label}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_report(metrics: dict[str, Any], report_dir: Path, stem: str, title: str, history_csv: Path | None = None) -> dict[str, str]:
    """Write ``<stem>_report.json``, the confusion-matrix PNG and, after training, the curves PNG."""
    report_dir.mkdir(parents=True, exist_ok=True)
    files = {"json": report_dir / f"{stem}_report.json", "confusion_matrix": report_dir / f"{stem}_confusion_matrix.png"}
    files["json"].write_text(json.dumps(metrics, indent=2) + "\n")
    plot_confusion_matrix(metrics, files["confusion_matrix"], title)
    if history_csv is not None and history_csv.is_file():
        files["training_curves"] = plot_training_curves(history_csv, report_dir / f"{stem}_training_curves.png")
    return {key: str(value) for key, value in files.items()}
