"""Celery tasks of an analysis: thin adapters from a queued message to ``emotune.lifecycle``.

Options common to every task (late acknowledgement, requeue when the worker is lost, no result
stored) are set once in the Celery config (``emotune.config.celery_config``); a task sets only
what differs. The web imports these tasks and calls ``apply_async`` on them; nothing names them
by string.
"""

from __future__ import annotations

import os
import socket
from typing import Any

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from flask import current_app

from emotune import lifecycle
from emotune.served_model import get_recognizer, model_status


@shared_task
def analyse_selfie(analysis_id: str, image_b64: str, original_size: list[int] | None = None) -> str:
    """Analyse one queued selfie (faces, emotions, playlists); returns the analysis's final status."""
    config = current_app.config
    try:
        return lifecycle.analyse(analysis_id, image_b64, original_size, lambda: get_recognizer(config))
    except SoftTimeLimitExceeded:
        return lifecycle.fail_timed_out(analysis_id, config["EMOTUNE_TASK_SOFT_LIMIT_S"])
    except Exception:
        return lifecycle.fail_crashed(analysis_id)


# Readiness waits for this reply, so unlike the analyses it stores a result and acks at once.
@shared_task(ignore_result=False, acks_late=False)
def ping() -> dict[str, Any]:
    """Readiness round trip: who answered, and whether this worker can load the model."""
    return {"hostname": socket.gethostname(), "pid": os.getpid(), "model": model_status(current_app.config)}
