"""Liveness (/healthz: the process answers) and readiness (/readyz: it can do real work).

Readiness checks the database, the broker, that a worker answers a round-trip ping task (kombu's
SQLAlchemy transport has no remote control, so ``celery inspect ping`` cannot work there), and
that the model file loads; each check reports its own detail, and any failure answers 503.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import Celery
from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text

from emotune.extensions import db
from emotune.served_model import model_unavailable_message, resolve_model
from emotune.tasks import ping
from recommender.refresh import spotify_configured

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)

def _celery() -> Celery:
    return current_app.extensions["celery"]


def check_database() -> dict[str, Any]:
    """Run ``SELECT 1`` on the app's database."""
    try:
        db.session.execute(text("SELECT 1"))
        return {"ok": True, "detail": f"{db.engine.url.get_backend_name()} answered"}
    except Exception as exc:
        log.warning("Readiness: database check failed: %s", exc)
        return {"ok": False, "detail": f"database unreachable: {type(exc).__name__}: {exc}"}
    finally:
        db.session.rollback()


def check_broker() -> dict[str, Any]:
    """Open a connection to the Celery broker."""
    try:
        with _celery().connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            transport = conn.transport_cls
        return {"ok": True, "detail": f"broker answered ({transport})"}
    except Exception as exc:
        log.warning("Readiness: broker check failed: %s", exc)
        return {"ok": False, "detail": f"broker unreachable: {type(exc).__name__}: {exc}"}


def ping_worker(timeout: float) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Send the ping task and wait for its reply; returns the check and the worker's reply."""
    started = time.perf_counter()
    try:
        result = ping.apply_async(queue=current_app.config["EMOTUNE_QUEUE"], expires=timeout + 5)
    except Exception as exc:
        return {"ok": False, "detail": f"could not send the ping task: {type(exc).__name__}: {exc}"}, None
    try:
        reply = result.get(timeout=timeout, interval=0.1)
    except Exception as exc:
        return {
            "ok": False,
            "detail": f"no worker answered within {timeout:g} s ({type(exc).__name__}); start one with "
            "`celery -A worker worker` (the `emotune` command starts one for you)",
        }, None
    finally:
        try:
            result.forget()
        except Exception:  # a backend without forget (or gone) must not fail readiness
            pass
    elapsed = (time.perf_counter() - started) * 1000
    return {"ok": True, "detail": f"worker {reply.get('hostname')} answered in {elapsed:.0f} ms"}, reply


def check_model_locally() -> dict[str, Any]:
    """When no worker answered: at least say whether the model file is there."""
    path = resolve_model(current_app.config)
    if path is None or not path.is_file():
        return {"ok": False, "detail": model_unavailable_message(path)}
    return {
        "ok": False,
        "detail": f"{path} exists but was not verified as loadable because no worker answered",
        "path": str(path),
    }


@bp.get("/healthz")
def healthz() -> Response:
    """The process is up and serving requests."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """All that an analysis needs works: 200 with details, or 503 saying what is missing."""
    checks: dict[str, dict[str, Any]] = {"database": check_database(), "broker": check_broker()}
    reply = None
    if checks["broker"]["ok"]:
        checks["worker"], reply = ping_worker(current_app.config["EMOTUNE_READY_PING_TIMEOUT_S"])
    else:
        checks["worker"] = {"ok": False, "detail": "not checked: the broker is unreachable"}
    checks["model"] = reply["model"] if reply and "model" in reply else check_model_locally()
    ready = all(check["ok"] for check in checks.values())
    # Informational only: without Spotify credentials the app still recommends (seeded catalogue).
    refreshes, message = spotify_configured(current_app.config)
    spotify = {"catalogue_refreshes": refreshes, "detail": message}
    return jsonify(status="ready" if ready else "not_ready", checks=checks, spotify=spotify), (
        200 if ready else 503
    )
