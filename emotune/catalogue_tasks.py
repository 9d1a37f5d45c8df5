"""Periodic catalogue refresh from Spotify search, with rate limits and outages retried later.

spotipy's retries are off, so a 429 reaches us at once as ``RateLimited(retry_after)``; the task
then schedules itself again with that countdown, capped and jittered, and the worker moves on
(a ``Retry-After: 3600`` never holds a worker process). 5xx answers and timeouts retry with
exponential backoff. A failed refresh changes nothing: analyses keep recommending from the
catalogue as it stands.

Beat schedule (``celery -A worker beat``): ``refresh-playlists-daily`` runs the refresh for every
emotion and strategy once a day at 04:17 UTC.
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
from recommender.refresh import refresh_catalogue, spotify_configured
from recommender.spotify_client import CatalogueClient, SpotifySettings

log = logging.getLogger(__name__)

RETRY_AFTER_CAP_S = 900
JITTER_S = 30.0
BACKOFF_BASE_S = 30
MAX_RETRIES = 5

def rate_limit_countdown(retry_after: float, rng: random.Random | None = None) -> float:
    """Wait what Spotify asked, at most ``RETRY_AFTER_CAP_S``, plus jitter so workers spread out."""
    return min(max(retry_after, 1.0), RETRY_AFTER_CAP_S) + (rng or random).uniform(0, JITTER_S)


def backoff_countdown(retries: int, rng: random.Random | None = None) -> float:
    """Exponential backoff for outages: 30 s, 60 s, 120 s, ... plus jitter."""
    return BACKOFF_BASE_S * 2**retries + (rng or random).uniform(0, JITTER_S)


@shared_task(bind=True, max_retries=MAX_RETRIES, acks_late=True, ignore_result=True)
def refresh_playlists(self: Any, emotion: str | None = None, strategy: str | None = None) -> dict[str, Any]:
    """Refresh the catalogue from Spotify; returns a summary, or why it was skipped."""
    ok, message = spotify_configured(current_app.config)
    if not ok:
        log.info("Catalogue refresh skipped: %s", message)
        return {"refreshed": False, "reason": message}
    try:
        client = CatalogueClient(SpotifySettings.from_config(current_app.config))
        report = refresh_catalogue(db.session, client, emotion=emotion, strategy=strategy)
    except RateLimited as exc:
        db.session.rollback()
        countdown = rate_limit_countdown(exc.retry_after)
        log.warning("Spotify rate limit (Retry-After %.0f s); refresh retries in %.0f s", exc.retry_after, countdown)
        raise self.retry(exc=exc, countdown=countdown)
    except SpotifyUnavailable as exc:
        db.session.rollback()
        countdown = backoff_countdown(self.request.retries)
        log.warning("Spotify unavailable (%s); refresh retries in %.0f s", exc.message, countdown)
        raise self.retry(exc=exc, countdown=countdown)
    except SpotifyError as exc:
        db.session.rollback()
        log.error("Catalogue refresh failed, not retried: %s", exc.message)
        return {"refreshed": False, "reason": exc.message}
    return {"refreshed": True, "summary": report.summary()}


BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "refresh-playlists-daily": {
        "task": refresh_playlists.name,
        "schedule": crontab(hour=4, minute=17),
        "kwargs": {},
    },
}
