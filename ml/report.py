"""Evaluation report: accuracy, per-class precision/recall/F1, macro-F1, confusion matrix, calibration
(ECE, 15 bins, and the reliability diagram); table, JSON, plots."""

import csv
import json
import textwrap
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

from ml.calibration import BINS, expected_calibration_error, negative_log_likelihood, reliability


def compute_metrics(labels: np.ndarray, probabilities: np.ndarray) -> dict[str, Any]:
    """Metrics of predictions (argmax of ``probabilities``) against true class indices."""
    predicted = probabilities.argmax(axis=1)
    classes = list(range(len(EMOTIONS)))
    precision, recall, f1, support = precision_recall_fscore_support(labels, predicted, labels=classes, zero_division=0)
    return {
        "accuracy": float(accuracy_score(labels, predicted)),
        "ece": expected_calibration_error(labels, probabilities),
        "nll": negative_log_likelihood(labels, probabilities),
        "macro_f1": float(f1_score(labels, predicted, labels=classes, average="macro", zero_division=0)),
        "per_class": {
            name: {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]), "support": int(support[i])}
            for i, name in enumerate(EMOTIONS)
        },
        "confusion_matrix": confusion_matrix(labels, predicted, labels=classes).tolist(),
        "classes": list(EMOTIONS),
        "count": int(len(labels)),
        "reliability": reliability(labels, probabilities),
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
    console.print(f"accuracy {metrics['accuracy']:.4f}   macro-F1 {metrics['macro_f1']:.4f}   "
                  f"ECE ({BINS} bins) {metrics['ece']:.4f}   images {metrics['count']}")
    for band in metrics.get("bands", []):
        console.print(f"band {band['key']:>6} ({band['label']}, top probability >= {band['lower']:.2f}): "
                      f"{band['share']:.1%} of faces, accuracy {band['accuracy']:.3f} "
                      f"(validation {band['validation_accuracy']:.3f})")
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


def plot_reliability(metrics: dict[str, Any], path: Path, title: str) -> Path:
    """Save the reliability diagram: accuracy per confidence bin against the diagonal, with counts."""
    rows = [row for row in metrics["reliability"] if row["count"]]
    width = 1.0 / len(metrics["reliability"])
    fig, (ax, hist) = plt.subplots(2, 1, figsize=(6.5, 7.5), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    ax.bar([r["lower"] for r in rows], [r["accuracy"] for r in rows], width=width, align="edge",
           edgecolor="black", color="tab:blue", label="accuracy in bin")
    ax.plot([r["confidence"] for r in rows], [r["confidence"] for r in rows], "o", color="tab:red",
            markersize=4, label="mean confidence in bin")
    ax.plot([0, 1], [0, 1], "--", color="gray", label="perfect calibration")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left")
    ax.set_title(textwrap.fill(title, 60) + f"\nECE ({len(metrics['reliability'])} bins) {metrics['ece']:.4f}", fontsize=10)
    hist.bar([r["lower"] for r in rows], [r["count"] for r in rows], width=width, align="edge", color="gray")
    hist.set_xlabel("top-class probability (as served)")
    hist.set_ylabel("faces")
    hist.set_xlim(0, 1)
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
    """Write ``<stem>_report.json``, the confusion-matrix and reliability PNGs and, after training, the curves PNG."""
    report_dir.mkdir(parents=True, exist_ok=True)
    files = {"json": report_dir / f"{stem}_report.json", "confusion_matrix": report_dir / f"{stem}_confusion_matrix.png",
             "reliability": report_dir / f"{stem}_reliability.png"}
    files["json"].write_text(json.dumps(metrics, indent=2) + "\n")
    plot_confusion_matrix(metrics, files["confusion_matrix"], title)
    plot_reliability(metrics, files["reliability"], title)
    if history_csv is not None and history_csv.is_file():
        files["training_curves"] = plot_training_curves(history_csv, report_dir / f"{stem}_training_curves.png")
    return {key: str(value) for key, value in files.items()}
