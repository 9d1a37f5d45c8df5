"""Telling web processes that an analysis moved: Redis pub/sub, or a short re-check on the embedded setup.

The worker ``announce``s each move (claimed, done, failed) after committing it; an event stream in
the web (``emotune.api.events``) ``listen``s for its analysis and re-reads the row when told. With
Redis the stream sleeps until a message arrives; the embedded setup (SQLite, no Redis) has no
channel between processes, so its streams re-read the row every ``EMBEDDED_CHECK_S``. Either way the
wait happens in a gevent greenlet of the web process (``emotune.gunicorn_conf``), not in a thread.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Final

import redis
from flask import Flask, current_app

log = logging.getLogger(__name__)

CHANNEL_PREFIX: Final = "emotune:analysis:"
# How often an embedded-setup stream re-reads its analysis (the worker takes a photo within
# EMOTUNE_BROKER_POLL_S, 50 ms, and runs it in about 100-200 ms).
EMBEDDED_CHECK_S: Final = 0.1


def channel(analysis_id: uuid.UUID | str) -> str:
    """The pub/sub channel of one analysis."""
    return f"{CHANNEL_PREFIX}{analysis_id}"


def _client(app: Flask) -> redis.Redis | None:
    """This process's Redis client for events (None on the embedded setup)."""
    url = app.config.get("REDIS_URL")
    if not url:
        return None
    client = app.extensions.get("emotune_events")
    if client is None:
        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        app.extensions["emotune_events"] = client
    return client


def announce(analysis_id: uuid.UUID, status: str) -> None:
    """Tell listening web processes that the analysis is now ``status`` (best effort: a stream that
    misses it still re-reads its analysis at each heartbeat, and polling clients never need it)."""
    client = _client(current_app)
    if client is None:
        return
    try:
        client.publish(channel(analysis_id), status)
    except redis.RedisError as exc:
        log.warning("Could not announce analysis %s as %s: %s", analysis_id, status, exc)


class Listener:
    """Waits for announcements about one analysis; subscribe before reading its state, so none is missed."""

    def __init__(self, app: Flask, analysis_id: uuid.UUID) -> None:
        self.pubsub = None
        client = _client(app)
        if client is not None:
            try:
                self.pubsub = client.pubsub(ignore_subscribe_messages=True)
                self.pubsub.subscribe(channel(analysis_id))
            except redis.RedisError as exc:
                log.warning("Event stream for %s falls back to re-reading: %s", analysis_id, exc)
                self.close()

    def wait(self, timeout: float) -> bool:
        """Block (cooperatively) until an announcement or ``timeout`` seconds; True if one came.

        Without Redis, returns after ``EMBEDDED_CHECK_S`` as if told, so the caller re-reads.
        """
        if self.pubsub is None:
            time.sleep(min(timeout, EMBEDDED_CHECK_S))
            return True
        try:
            return self.pubsub.get_message(timeout=timeout) is not None
        except redis.RedisError as exc:
            log.warning("Event stream lost Redis (%s); re-reading instead", exc)
            self.close()
            return True

    def close(self) -> None:
        """Unsubscribe and give the connection back."""
        if self.pubsub is not None:
            try:
                self.pubsub.close()
            except redis.RedisError:
                pass
            self.pubsub = None
