"""Delivered messages (they carry a selfie) are erased from the embedded SQLite broker."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from emotune.broker_cleanup import delete_delivered_messages


def make_broker(path: Path, rows: list[tuple[bytes, int]]) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE kombu_message (id INTEGER PRIMARY KEY, visible BOOLEAN, payload TEXT)")
        conn.executemany("INSERT INTO kombu_message (payload, visible) VALUES (?, ?)",
                         [(payload.decode(), visible) for payload, visible in rows])


def test_only_delivered_rows_are_deleted_and_their_bytes_are_zeroed(tmp_path: Path) -> None:
    broker = tmp_path / "broker.sqlite"
    delivered = b"DELIVERED-SELFIE-" * 500
    pending = b"PENDING-SELFIE-" * 500
    make_broker(broker, [(delivered, 0), (pending, 1)])
    assert delivered[:200] in broker.read_bytes()
    assert delete_delivered_messages(f"sqlite:///{broker}") == 1  # the embedded broker's URL
    with sqlite3.connect(broker) as conn:
        assert [row[0] for row in conn.execute("SELECT visible FROM kombu_message")] == [1]
    content = broker.read_bytes()
    # secure_delete: the freed pages are overwritten, not just unlinked from the b-tree.
    assert b"DELIVERED-SELFIE-" not in content
    assert pending[:200] in content


def test_other_brokers_and_missing_tables_are_left_alone(tmp_path: Path) -> None:
    assert delete_delivered_messages("redis://127.0.0.1:6379/0") == 0
    assert delete_delivered_messages(None) == 0
    empty = tmp_path / "empty.sqlite"
    sqlite3.connect(empty).close()
    assert delete_delivered_messages(f"sqla+sqlite:///{empty}") == 0


def test_cleanup_connection_zeroes_pages_and_keeps_its_journal_in_memory(tmp_path: Path) -> None:
    from sqlalchemy import text

    from emotune.broker_cleanup import _engine

    broker = tmp_path / "broker.sqlite"
    make_broker(broker, [])
    with _engine(f"sqlite:///{broker}").connect() as conn:
        # Some SQLite builds default secure_delete to on; ours must not depend on that.
        assert conn.execute(text("PRAGMA secure_delete")).scalar() == 1
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "memory"


def test_the_sweep_has_redis_rewrite_its_aof_so_acked_messages_leave_it() -> None:
    """With AOF on, an acknowledged message stays in the file until a rewrite; compaction removes it."""
    import shutil
    import time

    from emotune.broker_cleanup import compact_redis_aof
    from tests.integration.servers import RedisServer
    from tests.prerequisites import missing

    if not shutil.which("redis-server"):
        missing("redis-server on PATH (apt-get install redis-server)")
    server = RedisServer(appendonly=True).start()
    try:
        client = server.client()
        client.lpush("queue", b"SEALED-SELFIE-MESSAGE")
        client.rpop("queue")  # taken and acknowledged: gone from memory, still in the AOF
        aof = lambda: b"".join(p.read_bytes() for p in server.dir.rglob("*.aof"))  # noqa: E731
        assert b"SEALED-SELFIE-MESSAGE" in aof()
        assert compact_redis_aof(server.url) is True
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (b"SEALED-SELFIE-MESSAGE" in aof()
                                               or client.info("persistence")["aof_rewrite_in_progress"]):
            time.sleep(0.2)
        assert b"SEALED-SELFIE-MESSAGE" not in aof()
        # Nothing appended since: no needless rewrite; no Redis (embedded broker): nothing to do.
        assert compact_redis_aof(server.url) is False
        assert compact_redis_aof("sqla+sqlite:////tmp/broker.sqlite") is False
    finally:
        server.cleanup()
