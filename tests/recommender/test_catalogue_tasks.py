"""The periodic refresh task: rate limits and outages are retried later, never waited out."""

from __future__ import annotations

import random
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from celery.exceptions import Retry
from celery.signals import before_task_publish
from tests.spotify_stub import Scripted, SpotifyStub
from sqlalchemy import select

from recommender.models import Playlist
from emotune import catalogue_tasks
from emotune.catalogue_tasks import (
    BEAT_SCHEDULE,
    JITTER_S,
    RETRY_AFTER_CAP_S,
    backoff_countdown,
    rate_limit_countdown,
    refresh_playlists,
)


class RetryRecorder:
    """Stands in for ``Task.retry`` when the task runs in-process: records what it would schedule."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def __call__(self, exc: Exception | None = None, countdown: float | None = None, **kw: object) -> Retry:
        self.calls.append({"exc": exc, "countdown": countdown})
        return Retry(exc=exc, when=countdown)


def test_countdowns_are_capped_and_jittered() -> None:
    rng = random.Random(3)
    assert RETRY_AFTER_CAP_S <= rate_limit_countdown(3600, rng) <= RETRY_AFTER_CAP_S + JITTER_S
    assert 20 <= rate_limit_countdown(20, rng) <= 20 + JITTER_S
    draws = {round(rate_limit_countdown(10, rng), 3) for _ in range(10)}
    assert len(draws) > 1  # jitter spreads workers out
    assert backoff_countdown(0, rng) < backoff_countdown(3, rng)


def test_beat_schedule_names_the_refresh_task() -> None:
    entry = BEAT_SCHEDULE["refresh-playlists-daily"]
    assert entry["task"] == refresh_playlists.name == "emotune.catalogue_tasks.refresh_playlists"


def test_retry_after_3600_schedules_a_retry_instead_of_waiting(
    stub_app, stub: SpotifyStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    stub.script("/v1/search", Scripted.rate_limited(3600))
    recorder = RetryRecorder()
    monkeypatch.setattr(refresh_playlists, "retry", recorder)
    started = time.monotonic()
    with stub_app.app_context(), pytest.raises(Retry):
        refresh_playlists.run(emotion="Fear", strategy="calm")
    assert time.monotonic() - started < 5
    [call] = recorder.calls
    assert RETRY_AFTER_CAP_S <= call["countdown"] <= RETRY_AFTER_CAP_S + JITTER_S
    assert call["exc"].retry_after == 3600


def test_server_error_and_timeout_retry_with_backoff(
    stub_app, stub: SpotifyStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = RetryRecorder()
    monkeypatch.setattr(refresh_playlists, "retry", recorder)
    monkeypatch.setitem(stub_app.config, "SPOTIFY_TIMEOUT_S", 0.5)
    stub.script("/v1/search", Scripted.server_error(502), Scripted.slow(1.5))
    for _ in range(2):
        with stub_app.app_context(), pytest.raises(Retry):
            refresh_playlists.run(emotion="Fear", strategy="calm")
    assert [type(c["exc"]).__name__ for c in recorder.calls] == ["SpotifyUnavailable", "SpotifyUnavailable"]
    assert all(catalogue_tasks.BACKOFF_BASE_S <= c["countdown"] for c in recorder.calls)


def test_successful_run_refreshes_and_without_credentials_skips(stub_app, make_app) -> None:
    from emotune.extensions import db

    with stub_app.app_context():
        result = refresh_playlists.run(emotion="Happy", strategy="match")
        assert result["refreshed"] and "1 profiles searched" in result["summary"]
        assert db.session.scalars(select(Playlist).where(Playlist.source == "search")).first()
    with make_app().app_context():
        result = refresh_playlists.run()
        assert result["refreshed"] is False and "SPOTIFY_CLIENT_ID" in result["reason"]


@pytest.mark.integration
def test_real_worker_keeps_serving_while_a_3600_s_retry_waits(
    make_app, stub: SpotifyStub, tmp_path: Path
) -> None:
    """A real Celery worker on the embedded broker: the 429 task is rescheduled, a ping still answers."""
    from celery.contrib.testing.worker import start_worker

    from emotune.extensions import db
    from recommender.seed import seed_catalogue

    queue = f"recommender-worker-{tmp_path.name}"
    app = make_app(**stub.config(), EMOTUNE_QUEUE=queue)
    with app.app_context():
        seed_catalogue(db.session)
    celery_app = app.extensions["celery"]
    import emotune.tasks  # noqa: F401  (the ping task)

    stub.script("/v1/search", Scripted.rate_limited(3600))
    # The retry is observed as the message Celery publishes for it (its ETA), not through logs,
    # whose handlers depend on what earlier tests did to logging.
    retries: list[dict] = []

    def record_publish(sender: str | None = None, headers: dict | None = None, **_: object) -> None:
        if sender == refresh_playlists.name and headers and headers.get("retries"):
            retries.append(headers)

    before_task_publish.connect(record_publish, weak=False)
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False, queues=[queue],
                          shutdown_timeout=10, loglevel="WARNING"):
            sent_at = datetime.now(timezone.utc)
            celery_app.send_task(refresh_playlists.name, kwargs={"emotion": "Fear", "strategy": "calm"}, queue=queue)
            deadline = time.monotonic() + 30
            while not retries and time.monotonic() < deadline:
                time.sleep(0.2)
            assert retries, "the rate-limited refresh was not rescheduled"
            delay = (datetime.fromisoformat(retries[0]["eta"]) - sent_at).total_seconds()
            assert RETRY_AFTER_CAP_S - 5 <= delay <= RETRY_AFTER_CAP_S + JITTER_S + 30
            started = time.monotonic()
            reply = emotune.tasks.ping.apply_async(queue=queue).get(timeout=20)
            assert reply and time.monotonic() - started < 20
    finally:
        before_task_publish.disconnect(record_publish)
    assert stub.paths().count("/v1/search") == 1  # the retry waits its countdown, not retried at once
