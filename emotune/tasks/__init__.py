"""Celery tasks, all of them in this package: the analysis tasks here (thin adapters from queued
messages to ``emotune.lifecycle`` and ``emotune.recovery``), the catalogue's in ``emotune.tasks.catalogue``.

Options common to every task (late acknowledgement, requeue when the worker is lost, no result
stored) are set once in the Celery config (``emotune.config.celery_config``); a task sets only
what differs. The web imports these tasks and calls ``apply_async`` on them; nothing names them
by string except the beat schedule, which takes ``task.name``.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime
from typing import Any

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from flask import current_app
from sqlalchemy.exc import InterfaceError, OperationalError

from emotune import lifecycle, recovery
from emotune.broker_cleanup import compact_redis_aof
from emotune.config import control_queue
from emotune.extensions import db
from emotune.models import utcnow
from emotune.served_model import get_recognizer, model_status

# The database went away (down, restarting, failing over): the message is published again with a
# growing countdown instead of being acknowledged unprocessed. About ten minutes of retries; an
# analysis whose outage lasts longer is ended by the sweep once the database is back.
DATABASE_ERRORS = (OperationalError, InterfaceError)
DATABASE_RETRIES = 40


@shared_task(autoretry_for=DATABASE_ERRORS, retry_backoff=1, retry_backoff_max=recovery.RETRY_BACKOFF_MAX_S,
             retry_jitter=True, max_retries=DATABASE_RETRIES)
def analyse_selfie(analysis_id: str, sealed_photo: str) -> str:
    """Analyse one queued selfie (faces, emotions, playlists); returns the analysis's final status."""
    config = current_app.config
    try:
        return lifecycle.analyse(analysis_id, sealed_photo, lambda: get_recognizer(config))
    except DATABASE_ERRORS:
        # A connection that failed mid-transaction must not be reused by the retry.
        db.session.rollback()
        db.session.remove()
        raise
    except SoftTimeLimitExceeded:
        return lifecycle.fail_timed_out(analysis_id, config["EMOTUNE_TASK_SOFT_LIMIT_S"])
    except Exception:
        return lifecycle.fail_crashed(analysis_id)


@shared_task
def probe(queue: str, sent_at: str) -> None:
    """Taken from the analysis queue after everything enqueued before it: record the mark."""
    recovery.mark_taken(queue, datetime.fromisoformat(sent_at))


@shared_task
def sweep() -> dict[str, int]:
    """End analyses that can no longer finish, then send the next probe down the analysis queue."""
    queue = current_app.config["EMOTUNE_QUEUE"]
    report = recovery.sweep(queue)
    probe.apply_async(args=[queue, utcnow().isoformat()], queue=queue)
    # Finished analyses' sealed photos leave Redis's append-only file (emotune.broker_cleanup).
    compacted = compact_redis_aof(current_app.config.get("REDIS_URL"))
    return {"lost": report.lost, "stuck": report.stuck, "aof_rewrite": int(compacted)}


def sweep_schedule(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The beat entry that runs ``sweep`` every EMOTUNE_SWEEP_INTERVAL_S on the control queue."""
    return {
        "sweep-lost-and-stuck-analyses": {
            "task": sweep.name,
            "schedule": float(config["EMOTUNE_SWEEP_INTERVAL_S"]),
            "options": {"queue": control_queue(config["EMOTUNE_QUEUE"])},
        },
    }


# Readiness waits for this reply, so unlike the analyses it stores a result and acks at once.
@shared_task(ignore_result=False, acks_late=False)
def ping() -> dict[str, Any]:
    """Readiness round trip: who answered, and whether this worker can load the model."""
    return {"hostname": socket.gethostname(), "pid": os.getpid(), "model": model_status(current_app.config)}
