"""One analysis's whole life, from upload to done or failed: the only code that moves its state.

create -> enqueue -> claim -> record_recognition -> record_music -> finish, or fail at any step.
Ending an analysis that can no longer finish is the sweep's (``emotune.recovery``); the words people
read are in ``emotune.messages``. The Celery tasks (``emotune.tasks``) are thin adapters around
``analyse``, which takes what it needs as parameters, so the state machine runs (and is tested)
without Celery.

The selfie is only ever a function argument here, never stored or logged. In the queue it travels
sealed (``emotune.photo_seal``) with a key that lives only in the analysis row and is erased when
the analysis ends.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from flask import current_app
from sqlalchemy import delete, update

from emotune import events, messages
from emotune.photo_seal import PhotoUnreadable, new_key, seal, unseal
from emotune.extensions import db
from emotune.metrics import RECOGNIZER_CPU
from emotune.served_model import ModelUnavailable
from emotune.models import FINISHED, Analysis, Face, Stage, Status, as_utc, utcnow
from recognizer.errors import ImageRejected, ModelError
from recognizer.images import CheckedUpload
from recommender.choice import MusicChoice, MusicSource, choose_music
from recommender.service import recommend

if TYPE_CHECKING:  # the web process, which enqueues, never imports the detector
    from recognizer.pipeline import RecognitionResult, Recognizer

log = logging.getLogger(__name__)

# A message redelivered this many times means the analysis keeps killing its worker.
MAX_ATTEMPTS = 3


class QueueUnavailable(RuntimeError):
    """The broker did not take the task; the analysis has been marked failed (its message says so)."""


class AnalysisTask(Protocol):
    """What ``enqueue`` needs of the Celery task: ``apply_async`` (``emotune.tasks.analyse_selfie``)."""

    def apply_async(self, *args: Any, **kwargs: Any) -> Any: ...


def create(strategy: str | None, session_key: str | None, access_token_hash: str | None = None) -> Analysis:
    """Store a new queued analysis for this browser session (the photo is not part of it).

    ``access_token_hash`` lets an API client without cookies read it later (emotune.api.access).
    """
    analysis = Analysis(status=Status.QUEUED, stage=Stage.QUEUED, strategy=strategy, session_key=session_key,
                        access_token_hash=access_token_hash, photo_key=new_key())
    db.session.add(analysis)
    db.session.commit()
    return analysis


def enqueue(analysis: Analysis, upload: CheckedUpload, task: AnalysisTask) -> None:
    """Send the analysis to the worker; the selfie travels only inside the task message, encrypted.

    Raises ``QueueUnavailable`` after marking the analysis failed when the broker refuses it.
    """
    sealed = seal(analysis.photo_key, upload.data)
    try:
        task.apply_async(
            args=[str(analysis.id), sealed],
            queue=current_app.config["EMOTUNE_QUEUE"],
            # What logs, events and `celery inspect` show instead of the image.
            argsrepr=repr([str(analysis.id), "<selfie omitted>"]),
            retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5},
        )
    except Exception as exc:
        log.exception("Could not enqueue analysis %s", analysis.id)
        fail(analysis, "queue_unavailable", messages.QUEUE_UNAVAILABLE)
        raise QueueUnavailable(str(exc)) from exc


def claim(analysis_id: uuid.UUID) -> Analysis | None:
    """Move a queued (or crashed-while-running) analysis to running; None if there is nothing to do.

    One conditional ``UPDATE ... RETURNING`` claims the row and reads it back; the row lock orders
    racing deliveries, each counting one attempt (a running row is claimable again because a
    redelivery after a crash must run it). Only when nothing was claimed is the row read again, to
    say why.
    """
    now = utcnow()
    claimed = db.session.scalars(
        update(Analysis)
        .where(Analysis.id == analysis_id, Analysis.attempts < MAX_ATTEMPTS,
               Analysis.status.in_((Status.QUEUED, Status.RUNNING)))
        .values(status=Status.RUNNING, stage=Stage.ANALYSING, attempts=Analysis.attempts + 1, started_at=now,
                updated_at=now, notice_code=None, notice_message=None)
        .returning(Analysis)
        .execution_options(populate_existing=True, synchronize_session=False)
    ).one_or_none()
    db.session.commit()
    if claimed is not None:
        events.announce(analysis_id, Status.RUNNING)
        return claimed
    analysis = db.session.get(Analysis, analysis_id, populate_existing=True)
    if analysis is None:
        # Deleted by its owner, or this worker reads another database than the web app does.
        log.warning("Analysis %s is not in the database %s: deleted, or this worker is connected to a "
                    "different database than the web app", analysis_id,
                    db.engine.url.render_as_string(hide_password=True))
    elif analysis.status in FINISHED:
        log.info("Analysis %s is already %s; not running it again", analysis_id, analysis.status)
    elif analysis.attempts >= MAX_ATTEMPTS:
        fail(analysis, "worker_lost", messages.gave_up(analysis.attempts))
    return None


def record_recognition(analysis: Analysis, result: RecognitionResult, model_name: str, model_version: str) -> None:
    """Replace the analysis' faces with the recognizer's and record model, size, timings and notice.

    Nothing is written yet: ``finish`` stores it all in one commit, so a run that dies midway
    leaves no faces behind, and only a redelivered run has earlier faces to clear.
    """
    if analysis.attempts > 1:
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
    analysis.ignored_faces = [
        {"box": {"x": x, "y": y, "width": w, "height": h}, "reason": ignored.reason}
        for ignored in result.ignored_faces for x, y, w, h in [ignored.box]
    ]
    analysis.faces_left_out = result.faces_left_out
    primary, group = result.primary, result.group
    analysis.group_reading = group.to_dict() if group is not None else None
    # With several faces the music follows the group's reading; the person can still pick a face.
    if group is not None:
        source, analysis.confidence = MusicSource.of_photo(group.emotion, len(result.faces)), max(group.probabilities)
    elif primary is not None:
        source, analysis.confidence = MusicSource.of_photo(primary.emotion, 1), float(primary.confidence)
    else:
        source, analysis.confidence = None, None
    analysis.music = choose_music(source, analysis.strategy).to_json() if source else None
    if primary is None:
        analysis.notice_code = "no_face"
        analysis.notice_message = result.no_face_reason
    timings = {"queue": _ms(analysis.created_at, analysis.started_at or utcnow())}
    timings.update({key: round(value, 1) for key, value in result.timings_ms.items()})
    analysis.timings_ms = timings


def record_music(analysis: Analysis) -> None:
    """Choose and store the playlists for the analysis' music choice (made by ``record_recognition``)."""
    choice = analysis.choice
    if choice is None:
        return
    started = time.perf_counter()
    store_music(analysis, choice)
    analysis.timings_ms = {**(analysis.timings_ms or {}), "recommend": _ms_since(started)}


def store_music(analysis: Analysis, choice: MusicChoice) -> None:
    """Make ``choice`` the analysis' music: the decision (``analysis.music``) and its playlists."""
    analysis.music = choice.to_json()
    # The snapshot names the strategy its cards were drawn for; the decision itself is analysis.music.
    analysis.recommendations = {"strategy": choice.strategy, "playlists": playlists_for(choice)}


def playlists_for(choice: MusicChoice) -> list[dict[str, Any]]:
    """The playlists for a music choice, as stored and served (explored afresh on each call)."""
    # The worker's recognition is written with the rest in finish's one commit, not flushed ahead of this read.
    with db.session.no_autoflush:
        recs = recommend(db.session, emotion=choice.emotion, strategy=choice.strategy, chosen_by=choice.chosen_by,
                         limit=current_app.config["EMOTUNE_PLAYLIST_COUNT"])
    return [rec.to_dict() for rec in recs]


def finish(analysis: Analysis) -> None:
    """Mark the analysis done, record its total time from upload, erase its photo key."""
    analysis.status = Status.DONE
    analysis.stage = Stage.DONE
    analysis.photo_key = None
    analysis.finished_at = utcnow()
    analysis.timings_ms = {**(analysis.timings_ms or {}), "total": _ms(analysis.created_at, analysis.finished_at)}
    db.session.commit()
    events.announce(analysis.id, Status.DONE)


def fail(analysis: Analysis, code: str, message: str) -> None:
    """Mark the analysis failed with a code and a message that says what to do, and store it."""
    analysis.status = Status.FAILED
    analysis.stage = Stage.FAILED
    analysis.photo_key = None
    analysis.error_code = code
    analysis.error_message = message
    analysis.finished_at = utcnow()
    db.session.commit()
    events.announce(analysis.id, Status.FAILED)


def analyse(analysis_id: str, sealed_photo: str, load_recognizer: Callable[[], Recognizer]) -> str:
    """Run one delivered analysis to its end and return its final status (or why it was skipped).

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
        image = unseal(analysis.photo_key, sealed_photo)
    except PhotoUnreadable:
        fail(analysis, "invalid_message", messages.PHOTO_DAMAGED)
        return analysis.status
    try:
        recognizer = load_recognizer()
        cpu_started = time.process_time()
        try:
            result = recognizer.analyse(image)
        finally:
            RECOGNIZER_CPU.inc(time.process_time() - cpu_started)
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
        fail(analysis, "model_error", messages.MODEL_FAILED)
    return analysis.status


def fail_timed_out(analysis_id: str, limit_s: float) -> str:
    """End an analysis whose task ran past its soft time limit; returns its status."""
    db.session.rollback()
    log.error("Analysis %s ran past its %s s soft time limit", analysis_id, limit_s)
    return _fail_by_id(analysis_id, "timeout", messages.timed_out(limit_s))


def fail_crashed(analysis_id: str) -> str:
    """End an analysis whose task raised something unexpected (logged by id: the args hold the selfie)."""
    db.session.rollback()
    log.exception("Analysis %s failed unexpectedly", analysis_id)
    return _fail_by_id(analysis_id, "internal_error", messages.CRASHED)



def _fail_by_id(analysis_id: str, code: str, message: str) -> str:
    analysis = db.session.get(Analysis, uuid.UUID(analysis_id))
    if analysis is None:
        return "skipped"
    fail(analysis, code, message)
    return analysis.status


def _ms(start: datetime, end: datetime) -> float:
    return round((as_utc(end) - as_utc(start)).total_seconds() * 1000, 1)


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
