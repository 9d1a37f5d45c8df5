"""The Celery worker: ``celery -A worker worker`` builds the Flask app and serves its tasks.

``celery_app`` (also reachable as ``app``, the name Celery looks for) is built on first access,
not at import, so importing ``worker.tasks`` (which tests and the Celery ``include`` do) never
builds a second app as a side effect. The tasks (``worker.tasks``, ``worker.catalogue_tasks``)
are listed in the Celery config's ``include`` and run inside the Flask app context.
"""

from __future__ import annotations

from typing import Any

_built: dict[str, Any] = {}


def _build() -> dict[str, Any]:
    if not _built:
        from emotune import create_app
        from worker.catalogue_tasks import BEAT_SCHEDULE

        flask_app = create_app()
        celery_app = flask_app.extensions["celery"]
        celery_app.conf.beat_schedule = {**(celery_app.conf.beat_schedule or {}), **BEAT_SCHEDULE}
        _built.update(flask_app=flask_app, celery_app=celery_app)
    return _built


def __getattr__(name: str) -> Any:
    if name in ("celery_app", "app"):
        return _build()["celery_app"]
    if name == "flask_app":
        return _build()["flask_app"]
    raise AttributeError(f"module 'worker' has no attribute {name!r}")
