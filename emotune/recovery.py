"""The sweep and probe protocol: finding analyses that can no longer finish, and ending them.

A probe is a small task sent down the analysis queue after everything queued before it; when a
worker takes it (``mark_taken``), everything ahead of it has been delivered. ``sweep`` runs every
EMOTUNE_SWEEP_INTERVAL_S and fails what is still queued well behind a taken probe (its message was
lost with the broker's data) and what has run longer than any worker could (its worker was
killed, or it runs on another database). ``waiting_notice`` says why a queued analysis waits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select

from emotune.config import visibility_timeout
from emotune.extensions import db
from emotune.lifecycle import fail
from emotune import messages
from emotune.models import Analysis, QueueMark, Status, as_utc, utcnow

log = logging.getLogger(__name__)

# Time the worker needs beyond the hard limit to notice, requeue and write a result.
STUCK_MARGIN_S = 15
# An analysis created this long before a probe was sent may still be behind it in the queue
# (enqueue retries for about a second); only older ones count as lost.
ENQUEUE_SLACK_S = 10
# Longest countdown of a retry after a database error (emotune.tasks): a message delivered before
# the probe may be waiting this long in a worker before it claims its analysis.
RETRY_BACKOFF_MAX_S = 15
# Between a queue's name and a probe's send time in the ``queue_marks`` key of one taken probe.
PROBE_SEPARATOR = " probe "


def waiting_notice(analysis: Analysis, now: datetime | None = None) -> dict[str, str] | None:
    """For an analysis queued longer than EMOTUNE_QUEUE_NOTICE_S, say truthfully why it waits."""
    if analysis.status != Status.QUEUED:
        return None
    now = now or utcnow()
    waited = (now - as_utc(analysis.created_at)).total_seconds()
    if waited < current_app.config["EMOTUNE_QUEUE_NOTICE_S"]:
        return None
    mark = db.session.get(QueueMark, current_app.config["EMOTUNE_QUEUE"])
    recent = timedelta(seconds=3 * current_app.config["EMOTUNE_SWEEP_INTERVAL_S"] + lost_after_s())
    if mark and mark.taken_at and now - as_utc(mark.taken_at) < recent:
        return {"code": "waiting_in_queue", "message": messages.waiting_in_queue(waited)}
    return {"code": "waiting_for_worker", "message": messages.waiting_for_worker(waited)}


def stuck_after_s() -> int:
    """Seconds a running analysis may go without finishing before it is failed as lost.

    On Redis a killed worker's message comes back after the visibility timeout and runs again,
    so that redelivery gets its chance first; the embedded broker never redelivers.
    """
    config = current_app.config
    limit = config["EMOTUNE_TASK_HARD_LIMIT_S"] + STUCK_MARGIN_S
    if config.get("REDIS_URL"):
        limit += visibility_timeout(config)
    return limit


def lost_after_s() -> int:
    """Seconds after a worker took a probe by which everything enqueued before it has been claimed."""
    # A message delivered before the probe waits at most for its process's current task (hard
    # limit) or for a retry countdown after a database error, whichever is longer.
    return max(current_app.config["EMOTUNE_TASK_HARD_LIMIT_S"], RETRY_BACKOFF_MAX_S) + STUCK_MARGIN_S


def stuck_error(analysis: Analysis, now: datetime | None = None) -> dict[str, str] | None:
    """The error a running analysis ends with when its worker can no longer be finishing it, else None.

    Reading only: a request shows this verdict at once, and the sweep writes it (``fail_if_stuck``).
    """
    if analysis.status != Status.RUNNING or analysis.started_at is None:
        return None
    limit = stuck_after_s()
    if (now or utcnow()) - as_utc(analysis.started_at) < timedelta(seconds=limit):
        return None
    return {"code": "worker_lost", "message": messages.stopped_running(limit)}


def fail_if_stuck(analysis: Analysis, now: datetime | None = None) -> bool:
    """Mark a running analysis failed when its worker can no longer be finishing it."""
    error = stuck_error(analysis, now)
    if error is None:
        return False
    fail(analysis, error["code"], error["message"])
    log.warning("Analysis %s marked worker_lost after %s s running", analysis.id, stuck_after_s())
    return True


@dataclass(frozen=True)
class SweepReport:
    """What one sweep did: analyses failed as lost in the queue, or stuck with a dead worker."""

    lost: int
    stuck: int


def probe_key(queue: str, sent_at: datetime) -> str:
    """The ``queue_marks`` key recording one taken probe of ``queue`` (beside the queue's own row)."""
    return f"{queue}{PROBE_SEPARATOR}{as_utc(sent_at).isoformat()}"


def mark_taken(queue: str, sent_at: datetime) -> None:
    """A worker took the probe sent at ``sent_at`` from ``queue``: record it and move the queue's mark.

    The queue's own row holds the newest probe taken (readiness and notices read it); each taken
    probe also gets a row of its own, because the sweep needs the newest probe taken *long enough
    ago*, and with a probe every sweep interval the newest one is always only seconds old.
    """
    now = utcnow()
    mark = db.session.get(QueueMark, queue) or QueueMark(queue=queue)
    if mark.sent_at is None or as_utc(mark.sent_at) < sent_at:
        mark.sent_at, mark.taken_at = sent_at, now
        db.session.add(mark)
    key = probe_key(queue, sent_at)
    if db.session.get(QueueMark, key) is None:  # a redelivered probe keeps its first taking
        db.session.add(QueueMark(queue=key, sent_at=sent_at, taken_at=now))
    db.session.commit()


def sweep(queue: str, now: datetime | None = None) -> SweepReport:
    """End every analysis that can no longer finish, each with a message saying what to do.

    Lost: still queued although a probe sent well after it was taken from the (first in, first
    out) queue long enough ago for anything ahead of the probe to have been claimed. Stuck:
    running past ``stuck_after_s``. Returns the counts; the caller then sends the next probe.
    """
    now = now or utcnow()
    mark = db.session.get(QueueMark, queue) or QueueMark(queue=queue)
    probes = QueueMark.queue.startswith(f"{queue}{PROBE_SEPARATOR}", autoescape=True)
    # The newest probe taken long enough ago for everything ahead of it to have been claimed.
    settled = db.session.scalars(
        select(QueueMark).where(probes, QueueMark.taken_at <= now - timedelta(seconds=lost_after_s()))
        .order_by(QueueMark.sent_at.desc()).limit(1)
    ).first()
    lost = 0
    if settled is not None and settled.sent_at is not None:
        before = as_utc(settled.sent_at) - timedelta(seconds=ENQUEUE_SLACK_S)
        for analysis in db.session.scalars(
            select(Analysis).where(Analysis.status == Status.QUEUED, Analysis.created_at < before)
        ):
            fail(analysis, "lost", messages.LOST_MESSAGE)
            log.warning("Analysis %s failed as lost: still queued after the queue moved past it", analysis.id)
            lost += 1
        # Older probes can never settle anything the settled one does not.
        db.session.execute(delete(QueueMark).where(probes, QueueMark.sent_at < settled.sent_at))
    stuck = 0
    started_before = now - timedelta(seconds=stuck_after_s())
    for analysis in db.session.scalars(
        select(Analysis).where(Analysis.status == Status.RUNNING, Analysis.started_at < started_before)
    ):
        stuck += fail_if_stuck(analysis, now)
    mark.swept_at = now
    db.session.add(mark)
    db.session.commit()
    return SweepReport(lost=lost, stuck=stuck)
