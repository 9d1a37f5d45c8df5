"""Which model file serves analyses, this process's loaded copy of it, and what to say when there is none.

The worker loads it (once per process: Celery's ``worker_process_init`` drops any copy a forked
child inherited, and the first use loads it), readiness reports on it, so both agree. Never loaded
at import: the prefork parent imports the tasks before forking.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from recognizer.confidence import ConfidenceBands
from recognizer.errors import ModelError
from recognizer.metadata import metadata_path
from recognizer.models import PointerError, resolve_model_path
from recognizer.recipe import ServingRecipe

if TYPE_CHECKING:  # the web process reads bands and model names here but never loads the detector
    from recognizer.pipeline import Recognizer

log = logging.getLogger(__name__)


class ModelUnavailable(RuntimeError):
    """No usable model file; ``message`` names EMOTUNE_MODEL_PATH / ml/models."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class _Loaded:
    path: Path
    recognizer: Recognizer
    load_ms: float


_loaded: _Loaded | None = None
# The web process never loads the model, only its metadata (for the bands): keyed by path and mtime.
_recipes: dict[tuple[Path, float], ServingRecipe] = {}


def resolve_model(config: Mapping[str, Any]) -> Path | None:
    """EMOTUNE_MODEL_PATH when configured, else the model EMOTUNE_MODELS_DIR's ``SERVED`` pointer names.

    A ``SERVED`` file that names no file of its folder raises ModelUnavailable saying so: an
    operator's mistake to fix, which every caller already reports as a missing model.
    """
    try:
        return resolve_model_path(config["EMOTUNE_MODELS_DIR"], config.get("EMOTUNE_MODEL_PATH"))
    except PointerError as exc:
        raise ModelUnavailable(f"{exc}: write the served model's file name there (flask train-model --serve "
                               "does), or set EMOTUNE_MODEL_PATH.") from None


def model_unavailable_message(path: Path | None) -> str:
    """Why there is no model, naming the setting and the folder to fix it with."""
    if path is None:
        return (
            "No emotion model is installed: set EMOTUNE_MODEL_PATH to a .tflite (or .h5) model, or put "
            "a mobilenetv2_*.tflite with its .json metadata in ml/models (see `flask train-model`)."
        )
    return (
        f"The emotion model file {path} does not exist: fix EMOTUNE_MODEL_PATH (or the file name in "
        "ml/models/SERVED), or unset it to serve the model ml/models/SERVED names."
    )


def get_recognizer(config: Mapping[str, Any]) -> Recognizer:
    """This process' recognizer for the configured model; raises ModelUnavailable saying why."""
    from recognizer.pipeline import Recognizer

    global _loaded
    path = resolve_model(config)
    if path is None or not path.is_file():
        raise ModelUnavailable(model_unavailable_message(path))
    if _loaded is not None and _loaded.path == path:
        return _loaded.recognizer
    started = time.perf_counter()
    try:
        recognizer = Recognizer.from_path(path, num_threads=config["EMOTUNE_LITERT_THREADS"],
                                          min_face=config["EMOTUNE_MIN_FACE_PX"],
                                          group_span=config["EMOTUNE_FACE_GROUP_SPAN"] or None)
    except ModelError as exc:
        raise ModelUnavailable(f"The emotion model {path} could not be loaded: {exc}") from exc
    _loaded = _Loaded(path, recognizer, (time.perf_counter() - started) * 1000)
    log.info("Loaded model %s (%s) in %.0f ms in process %s", recognizer.model_name,
             recognizer.model_version, _loaded.load_ms, os.getpid())
    return recognizer


def forget() -> None:
    """Drop this process's copy (a forked child must not use its parent's interpreter)."""
    global _loaded
    _loaded = None


def model_status(config: Mapping[str, Any]) -> dict[str, Any]:
    """Readiness detail: whether this process can load the model, and which one."""
    try:
        recognizer = get_recognizer(config)
    except ModelUnavailable as exc:
        return {"ok": False, "detail": exc.message}
    return {
        "ok": True,
        "detail": f"{recognizer.model_name} loaded in worker process {os.getpid()}",
        "name": recognizer.model_name,
        "version": recognizer.model_version,
        "path": str(_loaded.path) if _loaded else None,
    }


def loaded_in_this_process() -> bool:
    """Whether this process holds a loaded model (tests check the prefork parent never does)."""
    return _loaded is not None


def confidence_bands(config: Mapping[str, Any]) -> ConfidenceBands | None:
    """The served model's confidence bands (from its metadata), or None when it has none or no model is there.

    The web process reads them to put words on a face's confidence; it never loads the model itself.
    """
    try:
        path = resolve_model(config)
    except ModelUnavailable as exc:
        log.warning("No confidence bands: %s", exc)
        return None
    if path is None:
        return None
    try:
        key = (path, metadata_path(path).stat().st_mtime)
        if key not in _recipes:
            _recipes.clear()
            _recipes[key] = ServingRecipe.for_model(path)
    except (OSError, ModelError) as exc:
        log.warning("No confidence bands for %s: %s", path, exc)
        return None
    return _recipes[key].bands
