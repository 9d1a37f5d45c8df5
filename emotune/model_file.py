"""Which model file serves analyses, and what to tell people when there is none.

Shared by the worker (which loads it) and readiness (which reports on it), so both agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from recognizer.models import resolve_model_path


def resolve_model(config: Mapping[str, Any]) -> Path | None:
    """EMOTUNE_MODEL_PATH when configured, else the newest ``mobilenetv2_*`` in EMOTUNE_MODELS_DIR."""
    return resolve_model_path(config["EMOTUNE_MODELS_DIR"], config.get("EMOTUNE_MODEL_PATH"))


def model_unavailable_message(path: Path | None) -> str:
    """Why there is no model, naming the setting and the folder to fix it with."""
    if path is None:
        return (
            "No emotion model is installed: set EMOTUNE_MODEL_PATH to a .tflite (or .h5) model, or put "
            "a mobilenetv2_*.tflite with its .json metadata in ml/models (see `flask train-model`)."
        )
    return (
        f"The emotion model file {path} does not exist: fix EMOTUNE_MODEL_PATH, or unset it to use "
        "the newest mobilenetv2_*.tflite in ml/models."
    )
