"""The analysis state machine (emotune.lifecycle) driven directly, without Celery or a broker."""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta
from typing import Any

import pytest
from cryptography.fernet import Fernet
from flask import Flask

from emotune import lifecycle, messages, recovery
from emotune.extensions import db
from emotune.models import Analysis, Stage, Status, as_utc
from emotune.served_model import ModelUnavailable
from recognizer.images import CheckedUpload


class RecordingTask:
    """Stands in for the broker: keeps what ``enqueue`` sends, or refuses it like a dead broker."""

    def __init__(self, refuse: bool = False) -> None:
        self.sent: list[dict[str, Any]] = []
        self.refuse = refuse

    def apply_async(self, **kwargs: Any) -> None:
        if self.refuse:
            raise ConnectionError("broker down")
        self.sent.append(kwargs)


def upload() -> CheckedUpload:
    return CheckedUpload(data=b"\xff\xd8not-really-a-jpeg", upright_size=(1280, 960))


def test_create_then_enqueue_sends_the_photo_only_in_the_message(app: Flask) -> None:
    task = RecordingTask()
    with app.test_request_context():
        analysis = lifecycle.create("calm", "browser-1")
        lifecycle.enqueue(analysis, upload(), task)
        assert (analysis.status, analysis.stage, analysis.session_key) == (Status.QUEUED, Stage.QUEUED, "browser-1")
    (sent,) = task.sent
    analysis_id, photo = sent["args"]
    assert analysis_id == str(analysis.id)
    # Sealed with the row's key: the message alone cannot give the photo back.
    assert upload().data not in base64.urlsafe_b64decode(photo)
    assert Fernet(analysis.photo_key.encode()).decrypt(photo.encode()) == upload().data
    assert "selfie omitted" in sent["argsrepr"] and photo not in sent["argsrepr"]
    assert sent["queue"] == app.config["EMOTUNE_QUEUE"]


def test_a_refused_message_fails_the_analysis_with_what_to_do(app: Flask) -> None:
    with app.test_request_context():
        analysis = lifecycle.create(None, None)
        with pytest.raises(lifecycle.QueueUnavailable):
            lifecycle.enqueue(analysis, upload(), RecordingTask(refuse=True))
        stored = db.session.get(Analysis, analysis.id)
        assert stored.status == Status.FAILED and stored.error_code == "queue_unavailable"
        assert stored.error_message == messages.QUEUE_UNAVAILABLE and "Try again" in stored.error_message


def test_analyse_reports_a_missing_model_and_never_claims_twice(app: Flask) -> None:
    def no_model() -> Any:
        raise ModelUnavailable("No emotion model is installed: set EMOTUNE_MODEL_PATH.")

    with app.app_context():
        analysis = lifecycle.create(None, None)
        photo = Fernet(analysis.photo_key.encode()).encrypt(b"photo").decode()
        assert lifecycle.analyse(str(analysis.id), photo, no_model) == Status.FAILED
        stored = db.session.get(Analysis, analysis.id)
        assert stored.error_code == "model_unavailable" and "EMOTUNE_MODEL_PATH" in stored.error_message
        assert stored.photo_key is None  # erased when the analysis ended
        assert stored.attempts == 1 and stored.finished_at is not None
        assert lifecycle.analyse(str(analysis.id), photo, no_model) == "skipped"


def test_analyse_rejects_a_damaged_message_and_a_malformed_id(app: Flask) -> None:
    def unused() -> Any:
        raise AssertionError("the recognizer must not be loaded for a damaged message")

    with app.app_context():
        analysis = lifecycle.create(None, None)
        assert lifecycle.analyse(str(analysis.id), "%%% not base64", unused) == Status.FAILED
        assert db.session.get(Analysis, analysis.id).error_code == "invalid_message"
        assert lifecycle.analyse("not-a-uuid", "", unused) == "invalid"
        assert lifecycle.analyse(str(uuid.uuid4()), "", unused) == "skipped"


def test_timeouts_and_crashes_end_the_analysis_with_a_message(app: Flask) -> None:
    with app.app_context():
        slow, broken = lifecycle.create(None, None), lifecycle.create(None, None)
        assert lifecycle.fail_timed_out(str(slow.id), 30) == Status.FAILED
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            assert lifecycle.fail_crashed(str(broken.id)) == Status.FAILED
        slow, broken = db.session.get(Analysis, slow.id), db.session.get(Analysis, broken.id)
        assert slow.error_code == "timeout" and "30 s" in slow.error_message
        assert broken.error_code == "internal_error" and "try again" in broken.error_message


def test_waiting_notice_and_stuck_detection_follow_the_configured_limits(app: Flask) -> None:
    with app.app_context():
        analysis = lifecycle.create(None, None)
        created = as_utc(analysis.created_at)
        notice_after = app.config["EMOTUNE_QUEUE_NOTICE_S"]
        assert recovery.waiting_notice(analysis, created + timedelta(seconds=notice_after - 1)) is None
        notice = recovery.waiting_notice(analysis, created + timedelta(seconds=notice_after + 1))
        assert notice and notice["code"] == "waiting_for_worker" and "/readyz" in notice["message"]
        assert lifecycle.claim(analysis.id) is not None
        assert recovery.waiting_notice(analysis, created + timedelta(hours=1)) is None
        limit = app.config["EMOTUNE_TASK_HARD_LIMIT_S"] + recovery.STUCK_MARGIN_S
        started = as_utc(analysis.started_at)
        assert not recovery.fail_if_stuck(analysis, started + timedelta(seconds=limit - 1))
        assert recovery.fail_if_stuck(analysis, started + timedelta(seconds=limit + 1))
        assert db.session.get(Analysis, analysis.id).error_code == "worker_lost"
