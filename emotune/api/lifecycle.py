"""An analysis' life outside the worker: creating and enqueuing it, and spotting stuck ones.

An analysis never waits without a visible reason: one still queued after a while carries a
``waiting_for_worker`` notice, and one running past the task's hard time limit (plus a margin)
is marked failed with ``worker_lost``.
"""

from __future__ import annotations

import base64
import logging
from datetime import datetime, timedelta

from celery import Celery
from flask import current_app

from emotune.extensions import db
from emotune.models import Analysis, as_utc, utcnow
from recognizer.images import NormalisedUpload

log = logging.getLogger(__name__)

ANALYSE_TASK = "worker.tasks.analyse_selfie"
# Time the worker needs beyond the hard limit to notice, requeue and write a result.
STUCK_MARGIN_S = 15


class QueueUnavailable(RuntimeError):
    """The broker did not take the task; the analysis has been marked failed."""


def _celery() -> Celery:
    return current_app.extensions["celery"]


def enqueue(analysis: Analysis, upload: NormalisedUpload) -> None:
    """Send the analysis to the worker; the selfie travels only inside the task message."""
    payload = base64.b64encode(upload.jpeg).decode("ascii")
    size = list(upload.original_size)
    try:
        _celery().send_task(
            ANALYSE_TASK,
            args=[str(analysis.id), payload, size],
            queue=current_app.config["EMOTUNE_QUEUE"],
            # Results live in our tables; not asking for one also keeps Celery from
            # subscribing to the result store (which, when Redis is down, retries for ~20 s).
            ignore_result=True,
            # What logs, events and `celery inspect` show instead of the image.
            argsrepr=repr([str(analysis.id), "<selfie omitted>", size]),
            retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5},
        )
    except Exception as exc:
        log.exception("Could not enqueue analysis %s", analysis.id)
        analysis.fail(
            "queue_unavailable",
            "The analysis queue is not reachable right now, so the photo was not analysed. "
            "Try again in a minute.",
        )
        db.session.commit()
        raise QueueUnavailable(str(exc)) from exc


def waiting_notice(analysis: Analysis, now: datetime | None = None) -> dict[str, str] | None:
    """For an analysis queued longer than EMOTUNE_QUEUE_NOTICE_S, say why it may be waiting."""
    if analysis.status != "queued":
        return None
    now = now or utcnow()
    waited = (now - as_utc(analysis.created_at)).total_seconds()
    if waited < current_app.config["EMOTUNE_QUEUE_NOTICE_S"]:
        return None
    return {
        "code": "waiting_for_worker",
        "message": f"Still waiting for a worker after {waited:.0f} s. It will run as soon as a "
        "worker is free; if this lasts, the operator should check that one is running "
        "(`celery -A worker worker`, or `emotune` for the embedded setup) and see /readyz.",
    }


def fail_if_stuck(analysis: Analysis, now: datetime | None = None) -> bool:
    """Mark a running analysis failed when it has outlived the task's hard time limit."""
    if analysis.status != "running" or analysis.started_at is None:
        return False
    now = now or utcnow()
    limit = current_app.config["EMOTUNE_TASK_HARD_LIMIT_S"] + STUCK_MARGIN_S
    if now - as_utc(analysis.started_at) < timedelta(seconds=limit):
        return False
    analysis.fail(
        "worker_lost",
        f"The analysis stopped without finishing within {limit} s (the worker was stopped or "
        "ran out of time). Please try again with a new photo.",
    )
    db.session.commit()
    log.warning("Analysis %s marked worker_lost after %s s running", analysis.id, limit)
    return True
