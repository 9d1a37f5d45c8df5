"""The recognizer of this worker process: loaded lazily, once, in the child that uses it.

Never loaded at import: the prefork parent imports the tasks before forking, and a model loaded
there would be shared (and its threads broken) across children.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from emotune.model_file import model_unavailable_message, resolve_model
from recognizer.errors import ModelError
from recognizer.pipeline import Recognizer

log = logging.getLogger(__name__)


class ModelUnavailable(RuntimeError):
    """No usable model file; ``message`` names EMOTUNE_MODEL_PATH / ml/models."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class _Cache:
    pid: int | None = None
    path: Path | None = None
    recognizer: Recognizer | None = None
    load_ms: float | None = None
    errors: list[str] = field(default_factory=list)


_cache = _Cache()


def get_recognizer(config: Mapping[str, Any]) -> Recognizer:
    """This process' recognizer for the configured model; raises ModelUnavailable saying why."""
    import time

    path = resolve_model(config)
    if path is None or not path.is_file():
        raise ModelUnavailable(model_unavailable_message(path))
    # A forked child must not reuse a parent's interpreter; the pid check guards against that.
    if _cache.recognizer is not None and _cache.path == path and _cache.pid == os.getpid():
        return _cache.recognizer
    started = time.perf_counter()
    try:
        recognizer = Recognizer.from_path(path, num_threads=config.get("EMOTUNE_LITERT_THREADS"))
    except ModelError as exc:
        raise ModelUnavailable(f"The emotion model {path} could not be loaded: {exc}") from exc
    _cache.pid, _cache.path, _cache.recognizer = os.getpid(), path, recognizer
    _cache.load_ms = (time.perf_counter() - started) * 1000
    log.info("Loaded model %s (%s) in %.0f ms in process %s", recognizer.model_name,
             recognizer.model_version, _cache.load_ms, os.getpid())
    return recognizer


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
        "path": str(_cache.path),
    }


def loaded_in_this_process() -> bool:
    """Whether this very process holds a loaded model (tests check the parent never does)."""
    return _cache.recognizer is not None and _cache.pid == os.getpid()
