"""Erase delivered messages from the embedded SQLite broker.

kombu's SQLAlchemy transport only marks a delivered message invisible and keeps its row; our
messages carry a selfie, so the worker deletes those rows after each task (and at start), with
SQLite's secure_delete on so the freed pages are zeroed, and the rollback journal kept in memory.
Redis drops a message from memory once it is acknowledged, but with persistence on (AOF) its
append-only file keeps every command, the sealed photo's LPUSH included, until the file is
rewritten; the photo key erased from the database's row may still sit in the database's own files
(PostgreSQL's dead row versions and WAL), so the two together could open it. The sweep therefore
has Redis rewrite its AOF (``BGREWRITEAOF``, from the data set alone) whenever commands were
appended since the last rewrite: a finished analysis's message is gone from the AOF within a
sweep interval or so.
"""

from __future__ import annotations

import logging
import os

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from emotune.extensions import sqlite_pragmas

log = logging.getLogger(__name__)

# Keyed by process too: a pooled SQLite connection must not cross a fork.
_engines: dict[tuple[int, str], Engine] = {}


def _engine(url: str) -> Engine:
    key = (os.getpid(), url)
    if key not in _engines:
        engine = create_engine(url, connect_args={"timeout": 5})
        sqlite_pragmas(engine, "secure_delete = ON", "journal_mode = MEMORY")
        _engines[key] = engine
    return _engines[key]


def delete_delivered_messages(broker_url: str | None) -> int:
    """Delete delivered (invisible) messages from a SQLite broker (``sqlite:///``, as the embedded
    setup names it, or kombu's ``sqla+sqlite:///``); returns rows deleted (0 for other brokers)."""
    if not broker_url:
        return 0
    url = broker_url[len("sqla+"):] if broker_url.startswith("sqla+") else broker_url
    if not url.startswith("sqlite:"):
        return 0
    try:
        with _engine(url).begin() as conn:
            exists = conn.execute(
                text("SELECT name FROM sqlite_master WHERE type='table' AND name='kombu_message'")
            ).first()
            if not exists:
                return 0
            return conn.execute(text("DELETE FROM kombu_message WHERE visible = 0")).rowcount
    except Exception as exc:
        # The next task's cleanup will catch what this one missed (e.g. the file was locked).
        log.warning("Could not delete delivered broker messages: %s", exc)
        return 0


def compact_redis_aof(broker_url: str | None) -> bool:
    """Ask a Redis broker with AOF on to rewrite it if anything was appended; True if a rewrite started."""
    if not broker_url or not broker_url.startswith(("redis://", "rediss://")):
        return False
    import redis

    try:
        client = redis.Redis.from_url(broker_url, socket_connect_timeout=3, socket_timeout=10)
        info = client.info("persistence")
        if not info.get("aof_enabled") or info.get("aof_rewrite_in_progress") or info.get("aof_rewrite_scheduled"):
            return False
        if info.get("aof_current_size", 0) <= info.get("aof_base_size", 0):
            return False
        client.bgrewriteaof()
        return True
    except redis.RedisError as exc:
        # The next sweep tries again (e.g. a rewrite or an RDB save was under way).
        log.warning("Could not have Redis rewrite its append-only file: %s", exc)
        return False
