"""The page's side of the Spotify login: where the login returns, and failures as sentences.

A login leaves the page for Spotify and comes back through ``/spotify/callback``. The page says
which result it was on (``/spotify/login?analysis=<id>``); the callback sends the person back to
it, with ``spotify=connected`` or ``spotify=failed`` in the address. A failure's sentence waits in
the session until the page reads it from ``/spotify/status``, so nothing about it is in the URL.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, redirect, request, session

from emotune.api.errors import ApiError, error_response
from recommender.errors import Forbidden, LoginRequired, RateLimited, SpotifyError, SpotifyUnavailable

RETURN_KEY = "spotify_return"
NOTICE_KEY = "spotify_notice"

LOGIN_AGAIN = "Your Spotify login has expired or was revoked: connect Spotify again."
NOT_ALLOWED = (
    "Spotify did not let this account use EmoTune: while the app is in Spotify's development mode, "
    "only the accounts its owner adds (up to 5, under User Management in the Spotify developer "
    "dashboard) can connect. Ask the owner of this EmoTune to add your Spotify account's email, then "
    "connect again."
)


def remember_return(analysis_id: str | None) -> None:
    """Keep the result the person was on (only a well-formed analysis id: no open redirect)."""
    session.pop(RETURN_KEY, None)
    try:
        session[RETURN_KEY] = str(uuid.UUID(analysis_id or ""))
    except ValueError:
        pass


def back_to_page(outcome: str) -> Any:
    """Redirect to the page (to the result the login started from), saying ``outcome``."""
    query = {"spotify": outcome}
    analysis = session.pop(RETURN_KEY, None)
    if analysis:
        query["analysis"] = analysis
    return redirect(f"/?{urlencode(query)}")


def pop_notice() -> dict[str, str] | None:
    """The last login failure's {"code", "message"}, once."""
    return session.pop(NOTICE_KEY, None)


def spotify_problem(exc: SpotifyError, during: str) -> ApiError:
    """A Spotify failure as the page says it: what happened and what to do."""
    if isinstance(exc, Forbidden) and exc.cause == "user_not_allowlisted":
        return ApiError(403, "spotify_user_not_allowed", NOT_ALLOWED)
    if isinstance(exc, LoginRequired):
        return ApiError(401, "spotify_login_expired", LOGIN_AGAIN)
    if isinstance(exc, RateLimited):
        wait = max(1, round(exc.retry_after))
        return ApiError(503, "spotify_busy",
                        f"Spotify is busy right now; nothing was lost. Try again in {wait} seconds.",
                        headers={"Retry-After": str(wait)})
    if isinstance(exc, SpotifyUnavailable):
        return ApiError(502, "spotify_unreachable",
                        f"Spotify could not be reached while {during}; nothing was lost. Try again later.")
    return ApiError(502, "spotify_failed", f"{exc.message} Nothing was lost; try again later.")


def register(bp: Blueprint) -> None:
    """A failed login comes back to the page with its sentence; the JSON routes answer as usual."""

    @bp.errorhandler(ApiError)
    def _to_page(exc: ApiError):  # type: ignore[no-untyped-def]
        if request.endpoint == f"{bp.name}.callback":
            session[NOTICE_KEY] = {"code": exc.code, "message": exc.message}
            return back_to_page("failed")
        response, status = error_response(exc.status, exc.code, exc.message)
        response.headers.update(exc.headers)
        return response, status
