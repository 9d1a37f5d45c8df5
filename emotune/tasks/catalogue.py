"""Periodic catalogue refresh: oEmbed verification, then Spotify search; failures retried by Celery.

Outages (5xx answers, timeouts: ``SpotifyUnavailable``) are retried by Celery itself
(``autoretry_for`` with exponential ``retry_backoff`` and ``retry_jitter``). Only Spotify's own
waits need code: a short 429 reschedules the task after its ``Retry-After`` (capped and jittered, so
a ``Retry-After: 3600`` never holds a worker process), and ``QUOTA_EXCEEDED`` stops the refresh
until the next scheduled run. A failed refresh changes nothing: analyses keep recommending from the
catalogue as it stands.

Beat schedule (``celery -A worker beat``): ``refresh-playlists-daily`` runs once a day at the time
``recommender.refresh`` names (04:17 UTC).
"""

from __future__ import annotations

import logging
import random
from typing import Any

from celery import shared_task
from celery.schedules import crontab
from flask import current_app

from emotune.extensions import db

from recommender.errors import RateLimited, SpotifyError, SpotifyUnavailable
from recommender.oembed import OEmbedClient
from recommender.refresh import REFRESH_HOUR_UTC, REFRESH_MINUTE_UTC, refresh_catalogue, spotify_configured
from recommender.spotify_client import CatalogueClient, SpotifySettings

log = logging.getLogger(__name__)

RETRY_AFTER_CAP_S = 900
JITTER_S = 30.0
BACKOFF_BASE_S = 30
BACKOFF_MAX_S = 1800
MAX_RETRIES = 5


def rate_limit_countdown(retry_after: float, rng: random.Random | None = None) -> float:
    """Wait what Spotify asked, at most ``RETRY_AFTER_CAP_S``, plus jitter so workers spread out."""
    return min(max(retry_after, 1.0), RETRY_AFTER_CAP_S) + (rng or random).uniform(0, JITTER_S)


@shared_task(
    bind=True, acks_late=True, ignore_result=True, max_retries=MAX_RETRIES,
    autoretry_for=(SpotifyUnavailable,), retry_backoff=BACKOFF_BASE_S, retry_backoff_max=BACKOFF_MAX_S,
    retry_jitter=True,
)
def refresh_playlists(self: Any, emotion: str | None = None, strategy: str | None = None) -> dict[str, Any]:
    """Verify and refresh the catalogue; returns a summary, or why it stopped."""
    settings = SpotifySettings.from_config(current_app.config)
    searching, message = spotify_configured(current_app.config)
    if not searching:
        log.info("Catalogue refresh without search: %s", message)
    try:
        client = CatalogueClient(settings) if searching else None
        report = refresh_catalogue(db.session, client, emotion=emotion, strategy=strategy,
                                   oembed=OEmbedClient(settings.oembed_base, settings.timeout_s))
    except RateLimited as exc:
        db.session.rollback()
        countdown = rate_limit_countdown(exc.retry_after)
        log.warning("Spotify rate limit (Retry-After %.0f s); refresh retries in %.0f s", exc.retry_after, countdown)
        raise self.retry(exc=exc, countdown=countdown)
    except SpotifyUnavailable:
        db.session.rollback()
        raise  # Celery's autoretry: exponential backoff with jitter
    except SpotifyError as exc:
        db.session.rollback()
        log.error("Catalogue refresh failed, not retried: %s", exc.message)
        return {"refreshed": False, "reason": exc.message}
    if report.stopped:
        return {"refreshed": False, "reason": report.stopped, "summary": report.summary(),
                "resumes_at": report.resumes_at.isoformat() if report.resumes_at else None}
    return {"refreshed": True, "searched": searching, "summary": report.summary()}


BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "refresh-playlists-daily": {
        "task": refresh_playlists.name,
        "schedule": crontab(hour=REFRESH_HOUR_UTC, minute=REFRESH_MINUTE_UTC),
        "kwargs": {},
    },
}
