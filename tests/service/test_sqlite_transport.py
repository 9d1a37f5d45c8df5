"""The embedded broker: kombu's SQLAlchemy transport polled at EMOTUNE_BROKER_POLL_S, app DB in WAL."""

from __future__ import annotations

from pathlib import Path

from kombu import Connection
from sqlalchemy import text

from emotune import create_app
from emotune.config import SQLITE_TRANSPORT
from emotune.extensions import db
from tests.conftest import app_overrides


def test_polling_interval_reaches_the_transport_not_the_engine(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'broker.sqlite'}"
    with Connection(url, transport=SQLITE_TRANSPORT, transport_options={"polling_interval": 0.05}) as conn:
        # kombu's own transport would hand polling_interval to create_engine, which refuses it.
        assert conn.transport.polling_interval == 0.05
        queue = conn.SimpleQueue("poll_test")
        queue.put({"hello": "world"})
        message = queue.get(timeout=2)
        assert message.payload == {"hello": "world"}
        message.ack()
        queue.close()


def test_broker_poll_setting_is_read(tmp_path: Path) -> None:
    app = create_app(app_overrides(tmp_path / "instance", EMOTUNE_BROKER_POLL_S=0.2))
    celery = app.extensions["celery"]
    assert celery.conf.broker_transport_options == {"polling_interval": 0.2}
    with celery.connection_for_write() as conn:
        assert conn.transport.polling_interval == 0.2


def test_app_database_runs_in_wal_mode(tmp_path: Path) -> None:
    app = create_app(app_overrides(tmp_path / "instance"))
    with app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        db.session.rollback()
        db.engine.dispose()


def test_an_empty_poll_takes_no_write_lock(tmp_path: Path) -> None:
    import sqlite3
    import time

    from kombu.transport.virtual import Empty

    path = tmp_path / "broker.sqlite"
    with Connection(f"sqlite:///{path}", transport=SQLITE_TRANSPORT,
                    transport_options={"polling_interval": 0.05, "connect_args": {"timeout": 2}}) as conn:
        channel = conn.channel()
        channel._new_queue("idle")
        writer = sqlite3.connect(path, isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")  # someone else holds the write lock (a publisher, the cleanup)
        try:
            started = time.monotonic()
            try:
                channel._get("idle")
                raise AssertionError("an empty queue delivered a message")
            except Empty:
                pass
            # kombu's own poll would wait for the lock (the 2 s busy timeout) on every empty poll.
            assert time.monotonic() - started < 0.5
        finally:
            writer.execute("ROLLBACK")
            writer.close()
        channel.close()
