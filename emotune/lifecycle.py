"""One analysis's whole life, from upload to done or failed: the only code that moves its state.

create -> enqueue -> claim -> record_recognition -> record_music -> finish, or fail at any step;
``waiting_notice`` and ``fail_if_stuck`` explain or end an analysis that is not moving. The
Celery task (``emotune.tasks``) is a thin adapter around ``analyse``, which takes the recognizer
loader as a parameter, so the state machine runs (and is tested) without Celery. The selfie is
only ever a function argument here: never stored, never logged.
"""

from __future__ import annotations

import base64
import binascii
import logging
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import delete, update

from emotune.extensions import db
from emotune.served_model import ModelUnavailable
from emotune.models import FINISHED, Analysis, Face, Stage, Status, as_utc, utcnow
from recognizer.errors import ImageRejected, ModelError
from recognizer.images import NormalisedUpload
from recognizer.pipeline import RecognitionResult, Recognizer
from recommender.service import recommend

log = logging.getLogger(__name__)

# A message redelivered this many times means the analysis keeps killing its worker.
MAX_ATTEMPTS = 3
# Time the worker needs beyond the hard limit to notice, requeue and write a result.
STUCK_MARGIN_S = 15

QUEUE_UNAVAILABLE = (
    "The analysis queue is not reachable right now, so the photo was not analysed. "
    "Try again in a minute."
)


class QueueUnavailable(RuntimeError):
    """The broker did not take the task; the analysis has been marked failed (its message says so)."""


class AnalysisTask(Protocol):
    """What ``enqueue`` needs of the Celery task: ``apply_async`` (``emotune.tasks.analyse_selfie``)."""

    def apply_async(self, *args: Any, **kwargs: Any) -> Any: ...


def create(strategy: str | None, session_key: str | None) -> Analysis:
    """Store a new queued analysis for this browser session (the photo is not part of it)."""
    analysis = Analysis(status=Status.QUEUED, stage=Stage.QUEUED, strategy=strategy, session_key=session_key)
    db.session.add(analysis)
    db.session.commit()
    return analysis


def enqueue(analysis: Analysis, upload: NormalisedUpload, task: AnalysisTask) -> None:
    """Send the analysis to the worker; the selfie travels only inside the task message.

    Raises ``QueueUnavailable`` after marking the analysis failed when the broker refuses it.
    """
    size = list(upload.original_size)
    try:
        task.apply_async(
            args=[str(analysis.id), base64.b64encode(upload.jpeg).decode("ascii"), size],
            queue=current_app.config["EMOTUNE_QUEUE"],
            # What logs, events and `celery inspect` show instead of the image.
            argsrepr=repr([str(analysis.id), "<selfie omitted>", size]),
            retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5},
        )
    except Exception as exc:
        log.exception("Could not enqueue analysis %s", analysis.id)
        fail(analysis, "queue_unavailable", QUEUE_UNAVAILABLE)
        raise QueueUnavailable(str(exc)) from exc


def claim(analysis_id: uuid.UUID) -> Analysis | None:
    """Move a queued (or crashed-while-running) analysis to running; None if there is nothing to do."""
    analysis = db.session.get(Analysis, analysis_id)
    if analysis is None:
        log.info("Analysis %s no longer exists (deleted); nothing to do", analysis_id)
        return None
    if analysis.status in FINISHED:
        log.info("Analysis %s is already %s; not running it again", analysis_id, analysis.status)
        return None
    if analysis.attempts >= MAX_ATTEMPTS:
        fail(analysis, "worker_lost",
             f"The analysis stopped its worker {analysis.attempts} times, so it was given up. "
             "Please try another photo.")
        return None
    seen = analysis.attempts
    # Conditional update: if two deliveries race, only one moves the attempt counter.
    claimed = db.session.execute(
        update(Analysis)
        .where(Analysis.id == analysis_id, Analysis.attempts == seen,
               Analysis.status.in_((Status.QUEUED, Status.RUNNING)))
        .values(status=Status.RUNNING, stage=Stage.ANALYSING, attempts=seen + 1, started_at=utcnow(),
                updated_at=utcnow(), notice_code=None, notice_message=None)
    )
    db.session.commit()
    if claimed.rowcount != 1:
        log.info("Analysis %s was claimed by another delivery", analysis_id)
        return None
    db.session.refresh(analysis)
    return analysis


def record_recognition(analysis: Analysis, result: RecognitionResult, model_name: str, model_version: str) -> None:
    """Replace the analysis' faces with the recognizer's and record model, size, timings and notice."""
    db.session.execute(delete(Face).where(Face.analysis_id == analysis.id))
    db.session.expire(analysis, ["faces"])
    for position, found in enumerate(result.faces):
        x, y, w, h = found.box
        face = Face(analysis_id=analysis.id, position=position, box_x=x, box_y=y, box_width=w,
                    box_height=h, emotion=found.emotion, confidence=float(found.confidence),
                    is_primary=position == 0)
        face.set_probabilities(found.probabilities)
        db.session.add(face)
    analysis.model_name = model_name
    analysis.model_version = model_version
    analysis.image_width, analysis.image_height = result.image_size
    primary = result.primary
    analysis.primary_emotion = primary.emotion if primary else None
    analysis.confidence = float(primary.confidence) if primary else None
    if primary is None:
        analysis.notice_code = "no_face"
        analysis.notice_message = result.no_face_reason
    timings = {"queue": _ms(analysis.created_at, analysis.started_at or utcnow())}
    timings.update({key: round(value, 1) for key, value in result.timings_ms.items()})
    analysis.timings_ms = timings


def record_music(analysis: Analysis) -> None:
    """Choose and store the playlists for the analysis' emotion under its effective strategy."""
    emotion, strategy = analysis.primary_emotion, analysis.effective_strategy
    if emotion is None or strategy is None:
        return
    analysis.stage = Stage.CHOOSING_MUSIC
    db.session.commit()
    started = time.perf_counter()
    recs = recommend(db.session, emotion=emotion, strategy=strategy,
                     limit=current_app.config["EMOTUNE_PLAYLIST_COUNT"])
    analysis.recommendations = {"strategy": strategy, "playlists": [rec.to_dict() for rec in recs]}
    analysis.timings_ms = {**(analysis.timings_ms or {}), "recommend": _ms_since(started)}


def finish(analysis: Analysis) -> None:
    """Mark the analysis done and record its total time from upload."""
    analysis.status = Status.DONE
    analysis.stage = Stage.DONE
    analysis.finished_at = utcnow()
    analysis.timings_ms = {**(analysis.timings_ms or {}), "total": _ms(analysis.created_at, analysis.finished_at)}
    db.session.commit()


def fail(analysis: Analysis, code: str, message: str) -> None:
    """Mark the analysis failed with a code and a message that says what to do, and store it."""
    analysis.status = Status.FAILED
    analysis.stage = Stage.FAILED
    analysis.error_code = code
    analysis.error_message = message
    analysis.finished_at = utcnow()
    db.session.commit()


def analyse(analysis_id: str, image_b64: str, original_size: Any,
            load_recognizer: Callable[[], Recognizer]) -> str:
    """Run one delivered analysis to its end and return its final status (or why it was skipped).

    ``original_size`` is the upload's upright [width, height] before normalisation: boxes and the
    reported image size are given in it (absent in messages of older versions).
    ``load_recognizer`` returns this process's recognizer or raises ``ModelUnavailable``.
    """
    try:
        key = uuid.UUID(analysis_id)
    except ValueError:
        log.error("An analysis message has a malformed id %r; dropping it", analysis_id)
        return "invalid"
    analysis = claim(key)
    if analysis is None:
        return "skipped"
    try:
        image = base64.b64decode(image_b64, validate=True)
    except (binascii.Error, ValueError):
        fail(analysis, "invalid_message", "The photo did not reach the worker intact. Please upload it again.")
        return analysis.status
    try:
        recognizer = load_recognizer()
        result = recognizer.analyse(image, _size(original_size))
        record_recognition(analysis, result, recognizer.model_name, recognizer.model_version)
        record_music(analysis)
        finish(analysis)
    except ModelUnavailable as exc:
        db.session.rollback()
        log.error("Analysis %s: model unavailable: %s", key, exc.message)
        fail(analysis, "model_unavailable", exc.message)
    except ImageRejected as exc:
        db.session.rollback()
        fail(analysis, exc.code, exc.message)
    except ModelError as exc:
        db.session.rollback()
        log.error("Analysis %s: model error: %s", key, exc)
        fail(analysis, "model_error", "The emotion model failed on this photo; the operator has been "
             "told. Please try again later.")
    return analysis.status


def fail_timed_out(analysis_id: str, limit_s: float) -> str:
    """End an analysis whose task ran past its soft time limit; returns its status."""
    db.session.rollback()
    log.error("Analysis %s ran past its %s s soft time limit", analysis_id, limit_s)
    return _fail_by_id(analysis_id, "timeout", f"The analysis took longer than {limit_s} s. Please try "
                       "again, perhaps with a smaller photo.")


def fail_crashed(analysis_id: str) -> str:
    """End an analysis whose task raised something unexpected (logged by id: the args hold the selfie)."""
    db.session.rollback()
    log.exception("Analysis %s failed unexpectedly", analysis_id)
    return _fail_by_id(analysis_id, "internal_error",
                       "Something went wrong while analysing the photo. Please try again.")


def waiting_notice(analysis: Analysis, now: datetime | None = None) -> dict[str, str] | None:
    """For an analysis queued longer than EMOTUNE_QUEUE_NOTICE_S, say why it may be waiting."""
    if analysis.status != Status.QUEUED:
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
    if analysis.status != Status.RUNNING or analysis.started_at is None:
        return False
    now = now or utcnow()
    limit = current_app.config["EMOTUNE_TASK_HARD_LIMIT_S"] + STUCK_MARGIN_S
    if now - as_utc(analysis.started_at) < timedelta(seconds=limit):
        return False
    fail(analysis, "worker_lost",
         f"The analysis stopped without finishing within {limit} s (the worker was stopped or "
         "ran out of time). Please try again with a new photo.")
    log.warning("Analysis %s marked worker_lost after %s s running", analysis.id, limit)
    return True


def _fail_by_id(analysis_id: str, code: str, message: str) -> str:
    analysis = db.session.get(Analysis, uuid.UUID(analysis_id))
    if analysis is None:
        return "skipped"
    fail(analysis, code, message)
    return analysis.status


def _size(value: Any) -> tuple[int, int] | None:
    """A task argument's [width, height] as a tuple, or None when absent or malformed."""
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, int) and v > 0 for v in value):
        return int(value[0]), int(value[1])
    return None


def _ms(start: datetime, end: datetime) -> float:
    return round((as_utc(end) - as_utc(start)).total_seconds() * 1000, 1)


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
