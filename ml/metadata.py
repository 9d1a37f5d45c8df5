"""The metadata JSON saved beside each model: what it is, how it was made, how well it does."""

import platform
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Any

import numpy as np

from recognizer.emotions import EMOTIONS
from recognizer.metadata import write_metadata
from recognizer.preprocess import FER_SIZE, PREPROCESSING
from recognizer.recipe import ServingRecipe, file_sha256, model_version

from ml import augment, callbacks
from ml.datasets import Dataset
from ml.evaluate import predict_faces
from ml.model import DROPOUT, INPUT_SHAPE, PlanModel

LIBRARIES = ("tensorflow-cpu", "keras", "numpy", "scikit-learn", "opencv-python-headless", "ai-edge-litert")


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries that shaped the model."""
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = package_metadata.version(name)
        except package_metadata.PackageNotFoundError:
            continue
    return versions


def export_agreement(model: Any, tflite_path: Path, faces: np.ndarray) -> dict[str, Any]:
    """How far the .tflite export's probabilities are from the Keras model's on the same faces."""
    from recognizer.preprocess import faces_to_input

    keras_probs = np.asarray(model(faces_to_input(faces), training=False))
    litert_probs = predict_faces(tflite_path, faces, ServingRecipe(mirror=False))
    return {
        "images": int(len(faces)),
        "max_abs_probability_difference": float(np.abs(keras_probs - litert_probs).max()),
        "same_top_class": bool((keras_probs.argmax(1) == litert_probs.argmax(1)).all()),
    }


def build(*, model_path: Path, tflite_path: Path, plan: PlanModel, dataset: Dataset, test: Dataset,
          train_counts: dict[str, int], val_count: int, class_weights: dict[int, float], config: dict[str, Any],
          epochs_run: int, best_epoch: int, stopped_by_time_budget: bool, metrics: dict[str, Any],
          timings: dict[str, float], export_agreement: dict[str, Any], report_files: dict[str, str],
          serving_choice: dict[str, Any] | None = None) -> dict[str, Any]:
    """Assemble the metadata dictionary for a trained model."""
    return {
        "name": model_path.stem,
        "version": model_version(tflite_path),
        "classes": list(EMOTIONS),
        "input_shape": list(INPUT_SHAPE),
        "preprocessing": PREPROCESSING,
        "preprocessing_detail": (f"face crop -> grayscale -> {FER_SIZE}x{FER_SIZE} (INTER_AREA) -> {INPUT_SHAPE[0]}x"
                                 f"{INPUT_SHAPE[1]} (INTER_LINEAR) -> 3 equal channels -> x/127.5-1"),
        "serving": {"test_time_flip": True, "tflite": tflite_path.name, "tflite_dtype": "float32",
                    **(serving_choice or {})},
        "files": {"h5": model_path.name, "tflite": tflite_path.name,
                  "h5_sha256": file_sha256(model_path), "tflite_sha256": file_sha256(tflite_path)},
        "dataset": {
            "name": dataset.name, "fingerprint_train": dataset.fingerprint, "fingerprint_test": test.fingerprint,
            "train_counts": train_counts, "validation_count": val_count, "test_counts": test.counts(),
        },
        "architecture": {
            "base": "MobileNetV2 (ImageNet), include_top=False", "base_layers": plan.base_layer_count,
            "frozen_layers": plan.frozen_count, "trainable_base_layers": plan.base_layer_count - plan.frozen_count,
            "first_trainable_layer": plan.model.layers[plan.frozen_count].name,
            "head": f"GlobalAveragePooling2D -> Dropout({DROPOUT}) -> Dense({len(EMOTIONS)}, softmax)",
            "parameters": int(plan.model.count_params()),
        },
        "class_weights": {EMOTIONS[i]: round(w, 4) for i, w in class_weights.items()},
        "hyperparameters": {
            "loss": "categorical_crossentropy", "optimizer": "Adam", "learning_rate": config["learning_rate"],
            "label_smoothing": config.get("label_smoothing", 0.0),
            "mixup": ({"alpha": config["mixup_alpha"], "on": "cached frozen-part features, pairs within a batch, "
                       "lambda ~ Beta(alpha, alpha) folded to [0.5, 1]"} if config.get("mixup_alpha") else None),
            "weight_average": ({"kind": "EMA (Adam use_ema, weights swapped in for validation and kept)",
                                "momentum": config["ema_momentum"]} if config.get("ema_momentum") else None),
            "batch_size": config["batch_size"], "max_epochs": config["epochs"], "val_fraction": config["val_fraction"],
            "seed": config["seed"], "limit_per_class": config["limit_per_class"],
            "early_stopping": {"monitor": "val_accuracy", "patience": callbacks.EARLY_STOPPING_PATIENCE, "restore_best_weights": True},
            "reduce_lr_on_plateau": {"monitor": "val_loss", "patience": callbacks.REDUCE_LR_PATIENCE,
                                     "factor": callbacks.REDUCE_LR_FACTOR, "min_lr": callbacks.MIN_LEARNING_RATE},
            "augmentation": {"views_per_image": config["views"], "mirror": True,
                             "max_rotation_deg": augment.MAX_ROTATION_DEG, "scale_range": list(augment.SCALE_RANGE),
                             "max_shift_px_at_48": config["max_shift_px"],
                             "degradation": {"probability": config["degrade_probability"],
                                             "brightness": augment.BRIGHTNESS, "contrast": augment.CONTRAST,
                                             "blur_sigma": augment.BLUR, "downscale": augment.RESAMPLE,
                                             "jpeg_quality": augment.JPEG_QUALITY},
                             "random_erasing": {"probability": config["erase_probability"], "area": list(augment.ERASE_AREA),
                                                "aspect": list(augment.ERASE_ASPECT), "fill": "uniform noise"},
                             "feature_shift_cells": config["feature_shift"],
                             "redrawn_share_per_epoch": config.get("redraw_share", 0.0)},
            "time_budget_minutes": config["time_budget_minutes"],
        },
        "training": {"epochs_run": epochs_run, "best_epoch": best_epoch, "stopped_by_time_budget": stopped_by_time_budget,
                     "continued_from": Path(config["init_weights"]).name if config.get("init_weights") else None,
                     "feature_cache": "frozen part run once per image view through LiteRT; top trained on cached outputs",
                     "feature_cache_key": config.get("feature_cache_key"),
                     "batchnorm_kernel": ("Keras, moving statistics" if config["batchnorm_inference"] else
                                          "TensorFlow FusedBatchNormV3 for the trainable BatchNorm layers (same arithmetic as Keras's)"),
                     **timings},
        "metrics": metrics,
        "export_agreement": export_agreement,
        "report_files": {k: Path(v).name for k, v in report_files.items()},
        "libraries": library_versions(),
    }


def write(meta: dict[str, Any], model_path: Path) -> Path:
    """Write ``<model stem>.json`` beside the model, checked against the recognizer's schema."""
    return write_metadata(model_path, meta)
