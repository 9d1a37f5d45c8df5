"""Erase delivered messages from the embedded SQLite broker.

kombu's SQLAlchemy transport only marks a delivered message invisible and keeps its row; our
messages carry a selfie, so the worker deletes those rows after each task (and at start), with
SQLite's secure_delete on so the freed pages are zeroed, and the rollback journal kept in memory.
Redis needs none of this: it drops a message once it is acknowledged.
"""

from __future__ import annotations

import logging
import os

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

# Keyed by process too: a pooled SQLite connection must not cross a fork.
_engines: dict[tuple[int, str], Engine] = {}


def _engine(url: str) -> Engine:
    key = (os.getpid(), url)
    if key not in _engines:
        engine = create_engine(url, connect_args={"timeout": 5})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA secure_delete = ON")
            cursor.execute("PRAGMA journal_mode = MEMORY")
            cursor.close()

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
