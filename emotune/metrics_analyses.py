"""Analyses' ends as metrics: final status and failure code, queue wait, stage timings, faces per photo.

Read from the database session rather than from the code that moves an analysis: whatever ends one
(the worker, the sweep, a poll that finds it stuck, a refused enqueue) sets its final status in a
flush, and its samples are recorded once that transaction commits (a rollback drops them). The
values are copied at the flush, because after a commit the rows are expired and no SQL may run.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from emotune.metrics import ANALYSES_FINISHED, FACES_PER_PHOTO, QUEUE_WAIT, STAGE_SECONDS
from emotune.models import FINISHED, Analysis, Face, Status, as_utc

ENDED = "emotune_metrics_ended"
FACES = "emotune_metrics_faces"
# timings_ms keys that are not stages of the work itself.
NOT_STAGES = frozenset({"queue", "total"})


@dataclass(frozen=True)
class Ended:
    """What the metrics need of an analysis that has just ended."""

    status: str
    code: str | None
    created_at: datetime | None
    started_at: datetime | None
    timings_ms: dict[str, float]


def _after_flush(session: Session, _context: Any) -> None:
    ended: dict[Any, Ended] = session.info.setdefault(ENDED, {})
    faces: Counter[Any] = session.info.setdefault(FACES, Counter())
    for obj in session.new:
        if isinstance(obj, Face):
            faces[obj.analysis_id] += 1
    for obj in [*session.new, *session.dirty]:
        if isinstance(obj, Analysis) and obj.status in FINISHED and inspect(obj).attrs.status.history.added:
            ended[obj.id] = Ended(str(obj.status), obj.error_code, obj.created_at, obj.started_at,
                                  dict(obj.timings_ms or {}))


def _after_commit(session: Session) -> None:
    ended: dict[Any, Ended] = session.info.pop(ENDED, {})
    faces: Counter[Any] = session.info.pop(FACES, Counter())
    for analysis_id, analysis in ended.items():
        record(analysis, faces[analysis_id])


def _forget(session: Session, *_: Any) -> None:
    session.info.pop(ENDED, None)
    session.info.pop(FACES, None)


def record(analysis: Ended, faces: int) -> None:
    """Count one ended analysis; a done one also gives its stage timings and how many faces it read."""
    ANALYSES_FINISHED.labels(analysis.status, analysis.code or "none").inc()
    if analysis.created_at is not None and analysis.started_at is not None:
        QUEUE_WAIT.observe(max(0.0, (as_utc(analysis.started_at) - as_utc(analysis.created_at)).total_seconds()))
    if analysis.status != Status.DONE:
        return
    for stage, milliseconds in analysis.timings_ms.items():
        if stage not in NOT_STAGES:
            STAGE_SECONDS.labels(stage).observe(milliseconds / 1000)
    FACES_PER_PHOTO.observe(faces)


def install() -> None:
    """Listen on every ORM session of this process (once)."""
    if event.contains(Session, "after_flush", _after_flush):
        return
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_rollback", _forget)
    event.listen(Session, "after_soft_rollback", _forget)
