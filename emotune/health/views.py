"""Liveness (/healthz: the process answers) and readiness (/readyz: it can do real work).

Readiness checks the database, the broker, that a worker answers a round-trip ping task (kombu's
SQLAlchemy transport has no remote control, so ``celery inspect ping`` cannot work there), and
that the model file loads; any failure answers 503. The ping goes through the control queue, so a
backlog of photos does not make a healthy deployment look unready. Each check's detail (paths,
hosts, pids, error text) is shown only to loopback clients and to holders of
EMOTUNE_READYZ_TOKEN; everyone else sees the status alone.
"""

from __future__ import annotations

import hmac
import logging
import time
from typing import Any

from celery import Celery
from flask import Response, current_app, jsonify, request
from sqlalchemy import text

from emotune.api.access import bearer_token
from emotune.config import control_queue
from emotune.extensions import db
from emotune.health import bp
from emotune.http import direct_loopback_request
from emotune.models import QueueMark, as_utc, utcnow
from emotune.spotify_auth.views import login_status
from emotune.served_model import ModelUnavailable, model_unavailable_message, resolve_model
from emotune.tasks import ping
from recommender.refresh import spotify_configured

log = logging.getLogger(__name__)


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
        result = ping.apply_async(queue=control_queue(current_app.config["EMOTUNE_QUEUE"]), expires=timeout + 5)
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
    try:
        path = resolve_model(current_app.config)
    except ModelUnavailable as exc:
        return {"ok": False, "detail": str(exc)}
    if path is None or not path.is_file():
        return {"ok": False, "detail": model_unavailable_message(path)}
    return {
        "ok": False,
        "detail": f"{path} exists but was not verified as loadable because no worker answered",
        "path": str(path),
    }


def check_sweep() -> dict[str, Any]:
    """When the sweep (which ends lost and stuck analyses) last ran; informational."""
    interval = current_app.config["EMOTUNE_SWEEP_INTERVAL_S"]
    try:
        mark = db.session.get(QueueMark, current_app.config["EMOTUNE_QUEUE"])
    except Exception as exc:
        db.session.rollback()
        return {"ok": False, "detail": f"not checked: {type(exc).__name__}"}
    if mark is None or mark.swept_at is None:
        return {"ok": False, "detail": "the sweep has not run yet: run `celery -A worker beat` beside the "
                "worker (`emotune` runs it for you)"}
    age = (utcnow() - as_utc(mark.swept_at)).total_seconds()
    return {"ok": age <= 3 * interval, "detail": f"last ran {age:.0f} s ago (every {interval} s)"}


def may_see_detail() -> bool:
    """Loopback clients (not relayed by a proxy: no X-Forwarded-For, Forwarded or X-Real-IP) and
    holders of EMOTUNE_READYZ_TOKEN."""
    token, expected = bearer_token(), current_app.config.get("EMOTUNE_READYZ_TOKEN")
    if token and expected and hmac.compare_digest(token, expected):
        return True
    return direct_loopback_request()


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
    status, code = ("ready", 200) if ready else ("not_ready", 503)
    if not may_see_detail():
        return jsonify(status=status), code
    # Informational only: without Spotify credentials the app still recommends (seeded catalogue);
    # without the sweep, lost analyses are ended only when someone polls them.
    refreshes, message = spotify_configured(current_app.config)
    login, login_detail = login_status()
    spotify = {"catalogue_refreshes": refreshes, "detail": message, "login_available": login,
               "login_detail": login_detail}
    return jsonify(status=status, checks=checks, sweep=check_sweep(), spotify=spotify), code
