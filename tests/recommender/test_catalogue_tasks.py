"""The periodic refresh task: rate limits and outages are retried later, never waited out; quota stops it."""

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
from emotune.tasks import catalogue as catalogue_tasks
from emotune.tasks.catalogue import (
    BEAT_SCHEDULE,
    JITTER_S,
    RETRY_AFTER_CAP_S,
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


def test_outages_use_celerys_own_backoff_with_jitter() -> None:
    from recommender.errors import SpotifyUnavailable

    assert refresh_playlists.autoretry_for == (SpotifyUnavailable,)
    assert refresh_playlists.retry_backoff == catalogue_tasks.BACKOFF_BASE_S
    assert refresh_playlists.retry_jitter is True and refresh_playlists.max_retries == catalogue_tasks.MAX_RETRIES


def test_beat_schedule_names_the_refresh_task() -> None:
    entry = BEAT_SCHEDULE["refresh-playlists-daily"]
    assert entry["task"] == refresh_playlists.name == "emotune.tasks.catalogue.refresh_playlists"


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
    # Celery's exponential backoff with full jitter: somewhere in [0, base * 2**retries].
    assert all(0 <= c["countdown"] <= catalogue_tasks.BACKOFF_BASE_S for c in recorder.calls)


def test_quota_exceeded_stops_until_the_next_scheduled_run(
    stub_app, stub: SpotifyStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = RetryRecorder()
    monkeypatch.setattr(refresh_playlists, "retry", recorder)
    stub.script("/v1/search", Scripted.quota_exceeded(20 * 3600))
    with stub_app.app_context():
        result = refresh_playlists.run()
    assert recorder.calls == []  # not retried within the day: the schedule takes it from here
    assert result["refreshed"] is False and "QUOTA_EXCEEDED" in result["reason"]
    resumes = datetime.fromisoformat(result["resumes_at"])
    assert (resumes.hour, resumes.minute) == (4, 17)
    assert (resumes - datetime.now(timezone.utc)).total_seconds() >= 20 * 3600 - 60
    assert stub.paths().count("/v1/search") == 1  # nothing searched after the quota answer


def test_successful_run_refreshes_and_without_credentials_only_verifies(stub_app, make_app, stub) -> None:
    from emotune.extensions import db
    from recommender.seed import seed_catalogue

    with stub_app.app_context():
        result = refresh_playlists.run(emotion="Happy", strategy="match")
        assert result["refreshed"] and "1 profiles searched" in result["summary"]
        assert db.session.scalars(select(Playlist).where(Playlist.source == "search")).first()
    searches = stub.paths().count("/v1/search")
    with make_app(SPOTIFY_OEMBED_BASE=stub.url).app_context():
        seed_catalogue(db.session)
        result = refresh_playlists.run()
        assert result["refreshed"] and result["searched"] is False
        assert "verified through oEmbed" in result["summary"] and "search skipped" in result["summary"]
    assert stub.paths().count("/v1/search") == searches  # no credentials: no search


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
