"""Every Flask extension, created once here and bound to the app with ``init_app``.

Celery is bound the way Flask's own ``examples/celery`` does it: ``celery_init_app`` builds a
Celery app whose tasks run inside the Flask app context.
"""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.engine import Engine

from recommender.base import Base

# Objects keep their values after a commit: the web's upload and the worker's run each commit once
# and go on reading what they just wrote, which expiring would re-read with one SELECT per commit.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
csrf = CSRFProtect()
# Storage comes from RATELIMIT_STORAGE_URI (Redis when REDIS_URL is set, memory otherwise).
limiter = Limiter(key_func=get_remote_address)


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app for ``app``; every task runs inside ``app.app_context()``."""

    class FlaskTask(Task):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.set_default()
    # Tasks are shared (``@shared_task``) and resolve against Celery's current app; a process that
    # builds several Flask apps (tests do) must send through the one serving this request.
    app.before_request(celery_app.set_current)
    app.extensions["celery"] = celery_app
    return celery_app


def use_sqlite_wal(engine: Engine) -> bool:
    """Put a SQLite file database in WAL mode (with ``synchronous=NORMAL``); False for other ones.

    The page polls an analysis every 50 ms while the worker writes it: in WAL mode readers and the
    writer do not block each other and a commit is one append to the log, not two synced files.
    """
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return False

    sqlite_pragmas(engine, "journal_mode = WAL", "synchronous = NORMAL")
    return True


def sqlite_pragmas(engine: Engine, *pragmas: str) -> None:
    """Run ``PRAGMA <each>`` on every new DBAPI connection of the SQLite ``engine``."""

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        for pragma in pragmas:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()
