"""``GET /metrics`` and the request-side metrics: uploads and their refusals, the web's Spotify calls.

``/metrics`` follows the access rule of ``/readyz``'s detail (``emotune.health.views.may_see_detail``):
loopback clients not relayed by a proxy, and holders of EMOTUNE_READYZ_TOKEN as a Bearer token;
everyone else gets 403 ``metrics_forbidden``. The counts come from each finished response, so
every refusal is counted by the code its client saw.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, request, session

from emotune import metrics_analyses
from emotune.api.errors import error_response
from emotune.health.views import may_see_detail
from emotune.metrics import CONTENT_TYPE, SPOTIFY_CALLS, UPLOAD_REJECTIONS, UPLOADS, exposition
from emotune.spotify_auth.page import NOTICE_KEY

bp = Blueprint("metrics", __name__)

UPLOAD_ENDPOINT = "api.create_analysis"
SAVE_ENDPOINT, LOGIN_ENDPOINT = "spotify_auth.save_playlist", "spotify_auth.callback"
# Error codes that mean Spotify was called and the call failed, by outcome. Other refusals of these
# routes (not logged in, bad input, a stale login link, no credentials) happen before any call.
SPOTIFY_FAILURES = {"spotify_login_failed": "failed", "spotify_failed": "failed", "spotify_busy": "rate_limited",
                    "spotify_unreachable": "unavailable", "spotify_login_expired": "login_expired",
                    "spotify_user_not_allowed": "forbidden"}


@bp.get("/metrics")
def get_metrics() -> Response | tuple[Response, int]:
    """The Prometheus text format, for loopback clients and holders of the readiness token."""
    if not may_see_detail():
        return error_response(
            403, "metrics_forbidden",
            "Metrics are shown only to clients on this machine and to holders of EMOTUNE_READYZ_TOKEN: "
            "send it as 'Authorization: Bearer <token>'.",
        )
    return Response(exposition(), content_type=CONTENT_TYPE)


def error_code(response: Response) -> str | None:
    """The code of an API error response, or None for anything else."""
    body = response.get_json(silent=True) if response.is_json else None
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else None


def spotify_outcome(endpoint: str | None, response: Response) -> tuple[str, str | None] | None:
    """(call, outcome) of a web route that calls Spotify; outcome None when no call was made."""
    if endpoint == SAVE_ENDPOINT:
        return "save_playlist", "ok" if response.status_code == 201 else SPOTIFY_FAILURES.get(error_code(response) or "")
    if endpoint == LOGIN_ENDPOINT:
        # The login always answers with the page: connected, or failed with the reason kept in the session.
        if "spotify=connected" in (response.location or ""):
            return "login", "ok"
        notice = session.get(NOTICE_KEY) or {}
        return "login", SPOTIFY_FAILURES.get(notice.get("code") or "")
    return None


def count_response(response: Response) -> Response:
    """Count an upload (accepted, or refused by its code) and a Spotify call made by the web."""
    endpoint = request.endpoint
    if endpoint == UPLOAD_ENDPOINT:
        if response.status_code == 202:
            UPLOADS.inc()
        elif 400 <= response.status_code < 500:
            UPLOAD_REJECTIONS.labels(error_code(response) or str(response.status_code)).inc()
        return response
    call = spotify_outcome(endpoint, response)
    if call is not None and call[1] is not None:
        SPOTIFY_CALLS.labels(*call).inc()
    return response


def init_app(app: Flask) -> None:
    """Serve /metrics, count requests, and count analyses as their transactions commit."""
    app.register_blueprint(bp)
    app.after_request(count_response)
    metrics_analyses.install()
