"""Celery tasks: analyse a selfie (recognizer, then recommender) and answer readiness pings.

``analyse_selfie`` acknowledges late, is requeued if its worker dies, and is idempotent on the
analysis id: a finished analysis is never redone, and a re-run replaces (never duplicates) faces.
The selfie only exists in the task message and in memory; it is never logged or stored.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import socket
import time
import uuid
from datetime import datetime
from typing import Any

from celery import current_app as current_celery_app
from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import task_postrun, worker_process_init, worker_ready
from flask import current_app
from sqlalchemy import delete, update

from emotune.extensions import db
from emotune.models import Analysis, Face, as_utc, utcnow
from recognizer.errors import ImageRejected, ModelError
from recognizer.pipeline import RecognitionResult
from recommender.service import recommend
from recommender.strategies import default_strategy
from worker.broker_cleanup import delete_delivered_messages
from worker.model_cache import ModelUnavailable, get_recognizer, model_status

log = logging.getLogger(__name__)

# A message redelivered this many times means the analysis keeps killing its worker.
MAX_ATTEMPTS = 3
PLAYLIST_LIMIT = 4


def _ms(start: datetime, end: datetime) -> float:
    return round((as_utc(end) - as_utc(start)).total_seconds() * 1000, 1)


def claim(analysis_id: uuid.UUID) -> Analysis | None:
    """Move a queued (or crashed-while-running) analysis to running; None if there is nothing to do."""
    analysis = db.session.get(Analysis, analysis_id)
    if analysis is None:
        log.info("Analysis %s no longer exists (deleted); nothing to do", analysis_id)
        return None
    if analysis.status in ("done", "failed"):
        log.info("Analysis %s is already %s; not running it again", analysis_id, analysis.status)
        return None
    if analysis.attempts >= MAX_ATTEMPTS:
        analysis.fail(
            "worker_lost",
            f"The analysis stopped its worker {analysis.attempts} times, so it was given up. "
            "Please try another photo.",
        )
        db.session.commit()
        return None
    seen = analysis.attempts
    # Conditional update: if two deliveries race, only one moves the attempt counter.
    claimed = db.session.execute(
        update(Analysis)
        .where(Analysis.id == analysis_id, Analysis.attempts == seen, Analysis.status.in_(("queued", "running")))
        .values(status="running", stage="analysing", attempts=seen + 1, started_at=utcnow(),
                updated_at=utcnow(), notice_code=None, notice_message=None)
    )
    db.session.commit()
    if claimed.rowcount != 1:
        log.info("Analysis %s was claimed by another delivery", analysis_id)
        return None
    db.session.refresh(analysis)
    return analysis


def store_recognition(analysis: Analysis, result: RecognitionResult, model_name: str, model_version: str) -> None:
    """Replace the analysis' faces with the recognizer's and record model, size and no-face notice."""
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


def run_analysis(analysis: Analysis, image: bytes, original_size: tuple[int, int] | None = None) -> None:
    """Recognizer, then recommender; stores every stage so a poll sees progress.

    ``original_size`` is the upload's upright (width, height) before normalisation: boxes and the
    reported image size are given in it.
    """
    config = current_app.config
    recognizer = get_recognizer(config)
    result = recognizer.analyse(image, original_size)
    store_recognition(analysis, result, recognizer.model_name, recognizer.model_version)
    timings: dict[str, float] = {"queue": _ms(analysis.created_at, analysis.started_at or utcnow())}
    timings.update({key: round(value, 1) for key, value in result.timings_ms.items()})
    analysis.timings_ms = timings
    if result.primary is not None:
        analysis.stage = "choosing_music"
        db.session.commit()
        started = time.perf_counter()
        strategy = analysis.strategy or default_strategy(result.primary.emotion)
        recs = recommend(db.session, emotion=result.primary.emotion, strategy=strategy, limit=PLAYLIST_LIMIT)
        analysis.recommendations = {"strategy": strategy, "playlists": [rec.to_dict() for rec in recs]}
        timings["recommend"] = round((time.perf_counter() - started) * 1000, 1)
    analysis.status = "done"
    analysis.stage = "done"
    analysis.finished_at = utcnow()
    timings["total"] = _ms(analysis.created_at, analysis.finished_at)
    analysis.timings_ms = dict(timings)
    db.session.commit()


@shared_task(bind=True, name="worker.tasks.analyse_selfie", acks_late=True, reject_on_worker_lost=True,
             ignore_result=True)
def analyse_selfie(self: Any, analysis_id: str, image_b64: str, original_size: list[int] | None = None) -> str:
    """Analyse one queued selfie and store faces, timings and playlists; returns the final status.

    ``original_size`` ([width, height] of the upload) is absent in messages queued by older versions.
    """
    try:
        key = uuid.UUID(analysis_id)
    except ValueError:
        log.error("analyse_selfie got a malformed analysis id %r; dropping the message", analysis_id)
        return "invalid"
    analysis = claim(key)
    if analysis is None:
        return "skipped"
    try:
        try:
            image = base64.b64decode(image_b64, validate=True)
        except (binascii.Error, ValueError):
            analysis.fail("invalid_message", "The photo did not reach the worker intact. Please upload it again.")
        else:
            run_analysis(analysis, image, _size(original_size))
    except ModelUnavailable as exc:
        db.session.rollback()
        log.error("Analysis %s: model unavailable: %s", key, exc.message)
        analysis.fail("model_unavailable", exc.message)
    except ImageRejected as exc:
        db.session.rollback()
        analysis.fail(exc.code, exc.message)
    except ModelError as exc:
        db.session.rollback()
        log.error("Analysis %s: model error: %s", key, exc)
        analysis.fail("model_error", "The emotion model failed on this photo; the operator has been "
                      "told. Please try again later.")
    except SoftTimeLimitExceeded:
        db.session.rollback()
        limit = current_app.config["EMOTUNE_TASK_SOFT_LIMIT_S"]
        log.error("Analysis %s ran past its %s s soft time limit", key, limit)
        analysis.fail("timeout", f"The analysis took longer than {limit} s. Please try again, "
                      "perhaps with a smaller photo.")
    except Exception:
        # Logged with the id only: the arguments hold the selfie.
        db.session.rollback()
        log.exception("Analysis %s failed unexpectedly", key)
        analysis.fail("internal_error", "Something went wrong while analysing the photo. Please try again.")
    db.session.commit()
    return analysis.status


def _size(value: list[int] | None) -> tuple[int, int] | None:
    """A task argument's [width, height] as a tuple, or None when absent or malformed."""
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, int) and v > 0 for v in value):
        return int(value[0]), int(value[1])
    return None


@shared_task(name="worker.tasks.ping", ignore_result=False, acks_late=False)
def ping() -> dict[str, Any]:
    """Readiness round trip: who answered, and whether this worker can load the model."""
    return {"hostname": socket.gethostname(), "pid": os.getpid(), "model": model_status(current_app.config)}


@worker_process_init.connect
def _warm_model(**_: Any) -> None:
    """Load the model in each freshly forked child, before its first photo arrives."""
    flask_app = getattr(current_celery_app, "flask_app", None)
    if flask_app is None:
        return
    try:
        get_recognizer(flask_app.config)
    except ModelUnavailable as exc:
        log.error("No model in worker process %s: %s", os.getpid(), exc.message)
    except Exception:
        log.exception("Loading the model in worker process %s failed", os.getpid())


@worker_ready.connect
def _clean_broker_on_start(sender: Any = None, **_: Any) -> None:
    delete_delivered_messages(current_celery_app.conf.broker_url)


@task_postrun.connect
def _clean_broker_after_task(**_: Any) -> None:
    delete_delivered_messages(current_celery_app.conf.broker_url)
