"""Server-sent events for one analysis: its state now and at each move, until it is done or failed.

``GET /api/analyses/<id>/events`` (``text/event-stream``) sends an ``analysis`` event whose data is
exactly what ``GET /api/analyses/<id>`` returns, at once and again whenever the status, stage or
notice changes, and ends after ``done`` or ``failed``. Between moves it waits on ``emotune.events``
(Redis pub/sub, or a short re-check on the embedded setup) in a gevent greenlet, holding no thread
and no database connection; a comment line every ``HEARTBEAT_S`` keeps proxies from closing it. After
``STREAM_LIMIT_S`` the stream ends and EventSource reconnects by itself. Polling the plain GET
remains for clients that prefer it.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Final

from flask import Response, current_app, stream_with_context
from sqlalchemy.orm import joinedload

from emotune.api import bp
from emotune.api.analyses import analysis_state, load_analysis
from emotune.events import Listener
from emotune.extensions import db
from emotune.models import FINISHED, Analysis

HEARTBEAT_S: Final = 15.0
STREAM_LIMIT_S: Final = 55.0
RETRY_MS: Final = 1000
GONE = {"error": {"code": "analysis_not_found",
                  "message": "This analysis no longer exists: it was deleted. Take or upload a new photo."}}


def _event(name: str, body: dict) -> str:
    return f"event: {name}\ndata: {json.dumps(body, separators=(',', ':'))}\n\n"


def _subscribed(analysis_id: str) -> Listener | None:
    """A listener on the analysis' announcements, before anything reads it (None for a malformed id)."""
    try:
        key = uuid.UUID(analysis_id)
    except ValueError:
        return None
    return Listener(current_app._get_current_object(), key)


@bp.get("/analyses/<analysis_id>/events")
def analysis_events(analysis_id: str) -> Response:
    """Stream the analysis' state as server-sent events until it is done or failed."""
    # Subscribed first, so that no move after the first read is missed; that read is the access
    # check's own (the same 404 and rules as the plain GET), not a second query.
    listener = _subscribed(analysis_id)
    try:
        analysis = load_analysis(analysis_id)
        first = analysis_state(analysis)
    except BaseException:
        if listener is not None:
            listener.close()
        raise
    key = analysis.id
    listener = listener or Listener(current_app._get_current_object(), key)

    def stream() -> Iterator[str]:
        try:
            yield f"retry: {RETRY_MS}\n\n"
            deadline = time.monotonic() + STREAM_LIMIT_S
            shown = None
            body = first
            while True:
                finished = body["status"] in FINISHED
                seen = (body["status"], body["stage"], json.dumps(body["notice"], sort_keys=True))
                if seen != shown:
                    shown = seen
                    yield _event("analysis", body)
                if finished:
                    return
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                if not listener.wait(min(HEARTBEAT_S, left)):
                    yield ": keep-alive\n\n"
                # The faces come in the same query as the analysis, not one more when read.
                current = db.session.get(Analysis, key, populate_existing=True, options=[joinedload(Analysis.faces)])
                if current is None:
                    yield _event("gone", GONE)
                    return
                body = analysis_state(current)
                # The connection goes back to the pool while the stream waits.
                db.session.close()
        finally:
            listener.close()

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}  # a result is personal data
    db.session.close()
    return Response(stream_with_context(stream()), mimetype="text/event-stream", headers=headers)
