"""kombu's SQLAlchemy transport for the embedded SQLite broker, with a polling interval that works.

kombu's virtual transports sleep ``polling_interval`` between empty polls (1 s by default, which
was most of an analysis' time on the embedded setup) and read it from the transport options; but
the SQLAlchemy channel hands every transport option to ``create_engine``, which refuses keywords it
does not know. This channel leaves ``polling_interval`` out of the engine's options.

Polling 20 times a second makes the cost of an empty poll matter: kombu's takes the database's
write lock (``BEGIN IMMEDIATE``) and runs two ORM queries per queue. This channel first asks with
one plain read whether the queue holds a visible message at all, and only then does kombu's own
locked fetch; a message that arrives just after the check waits for the next poll. Everything
else is kombu's transport. Celery selects it with ``broker_transport`` (emotune.config).
"""

from __future__ import annotations

from typing import Any

from kombu.transport import sqlalchemy as kombu_sqlalchemy
from kombu.transport.virtual import Empty
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

# Transport options kombu itself consumes (its channel drops the same ones), plus ours.
NOT_FOR_ENGINE = (
    "queue_tablename", "message_tablename", "callback", "errback", "max_retries", "interval_start",
    "interval_step", "interval_max", "retry_errors", "polling_interval",
)


def engine_options(transport_options: dict[str, Any]) -> dict[str, Any]:
    """The transport options that are ``create_engine`` keywords."""
    return {key: value for key, value in transport_options.items() if key not in NOT_FOR_ENGINE}


class Channel(kombu_sqlalchemy.Channel):
    """kombu's channel, building its engine without the options that are not the engine's."""

    def _engine_from_config(self) -> Engine:
        conninfo = self.connection.client
        return create_engine(conninfo.hostname, **engine_options(conninfo.transport_options))

    def _has_visible(self, queue: str) -> bool:
        """Whether ``queue`` holds a message not yet delivered (a plain read, no write lock)."""
        engine, _ = self._open()
        query = text(
            f"SELECT 1 FROM {self.message_tablename} AS m JOIN {self.queue_tablename} AS q "
            "ON m.queue_id = q.id WHERE q.name = :name AND m.visible = 1 LIMIT 1"
        )
        with engine.connect() as conn:
            return conn.execute(query, {"name": queue}).first() is not None

    def _get(self, queue: str) -> Any:
        if not self._has_visible(queue):
            raise Empty()
        return super()._get(queue)


class Transport(kombu_sqlalchemy.Transport):
    """kombu's SQLAlchemy transport with ``Channel`` above (polling interval from the options)."""

    Channel = Channel
