"""Routes for what belongs to this browser: its history, its consent and its CSRF token."""

from __future__ import annotations

from flask import Response, jsonify, session
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from emotune.api import bp
from emotune.api.browser_session import CONSENT_KEY, history_key
from emotune.api.serialise import summary_json
from emotune.extensions import db
from emotune.models import Analysis

# Enough for a week's journal of several readings a day.
HISTORY_LIMIT = 60


def _own_analyses() -> list[Analysis]:
    key = history_key()
    if key is None:
        return []
    return list(
        db.session.scalars(
            select(Analysis)
            .options(selectinload(Analysis.faces))
            .where(Analysis.session_key == key)
            .order_by(Analysis.created_at.desc())
            .limit(HISTORY_LIMIT)
        )
    )


@bp.get("/history")
def get_history() -> Response:
    """This browser's latest analyses, newest first."""
    return jsonify(analyses=[summary_json(analysis) for analysis in _own_analyses()])


@bp.delete("/history")
def delete_history() -> tuple[str, int]:
    """Delete every analysis of this browser from the database."""
    key = history_key()
    if key is not None:
        for analysis in db.session.scalars(select(Analysis).where(Analysis.session_key == key)):
            db.session.delete(analysis)
        db.session.commit()
    return "", 204


@bp.post("/consent")
def post_consent() -> tuple[str, int]:
    """Remember in the session that this person agreed to have their photo analysed."""
    session[CONSENT_KEY] = True
    session.permanent = True
    return "", 204


@bp.get("/csrf")
def get_csrf() -> Response:
    """A CSRF token for API clients: send it back in X-CSRFToken with the same session cookie."""
    return jsonify(csrf_token=generate_csrf())
