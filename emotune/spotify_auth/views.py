"""Optional Spotify login (authorization code with PKCE) and "save as a playlist in my account".

Tokens stay on the server (``spotify_tokens`` table) under a random key kept in the signed session
cookie; the browser never sees them. Everything else in EmoTune works without logging in.
Routes: GET /spotify/login, GET /spotify/callback, GET /spotify/status, POST /spotify/logout,
POST /spotify/playlists (JSON ``{"emotion", "strategy", "source_playlist_id"?}``).

This module only translates: requests in, ``ApiError`` out. The PKCE verifier and challenge come
from spotipy, saving a playlist from ``recommender.saving``.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
from typing import Any

from flask import Response, current_app, jsonify, redirect, request, session
from spotipy.cache_handler import MemoryCacheHandler

from emotune.spotify_auth.page import LOGIN_AGAIN, back_to_page, pop_notice, register, remember_return, spotify_problem
from emotune.api.errors import ApiError
from emotune.api.validation import is_text, json_object
from emotune.extensions import db
from emotune.http import direct_loopback_request, is_loopback
from emotune.spotify_auth import bp
from recommender.errors import (
    Forbidden,
    LoginRequired,
    NoMoodProfile,
    SpotifyError,
    SpotifyNotConfigured,
)
from recommender.refresh import spotify_configured
from recommender.saving import save_to_account
from recommender.spotify_client import SpotifySettings, translated_errors
from recommender.spotify_user import UserClient, pkce_manager
from recommender.strategies import UnknownEmotion, UnknownStrategy, check_emotion, check_strategy
from recommender.tokens import DatabaseTokenCache

log = logging.getLogger(__name__)

register(bp)

USER_KEY = "spotify_user"
PKCE_KEY = "spotify_pkce"


def _loopback_redirect() -> str | None:
    """Without SPOTIFY_REDIRECT_URI, the callback on this machine's own loopback address, for a
    visitor on this machine (the embedded setup); None for anyone else, whose Host header could
    name any site."""
    host = request.host
    name = host[1 : host.find("]")] if host.startswith("[") else host.rsplit(":", 1)[0]
    if not direct_loopback_request() or not is_loopback(name):
        return None
    return request.host_url.rstrip("/") + "/spotify/callback"


def login_status() -> tuple[bool, str]:
    """Whether /spotify/login works for this requester, and a sentence saying why (or why not)."""
    settings = SpotifySettings.from_config(current_app.config)
    if not settings.client_id:
        return False, "Spotify login is off: SPOTIFY_CLIENT_ID is not set."
    if settings.redirect_uri:
        return True, f"Spotify login is on; Spotify sends people back to {settings.redirect_uri}."
    if _loopback_redirect():
        return True, ("Spotify login works only for visitors on this machine (SPOTIFY_REDIRECT_URI is not "
                      "set; set it to offer login on other addresses).")
    return False, ("Spotify login is off for this address: SPOTIFY_REDIRECT_URI is not set (the "
                   "https://<your host>/spotify/callback address registered with the Spotify app).")


def _settings() -> SpotifySettings:
    """The Spotify settings with the redirect URI this login uses (configured, or loopback), else a 503."""
    settings = SpotifySettings.from_config(current_app.config)
    if settings.redirect_uri is None:
        redirect_uri = _loopback_redirect()
        if redirect_uri is None:
            local = (f" On this machine, open EmoTune at http://127.0.0.1:{request.host.rsplit(':', 1)[-1]}/ "
                     "to log in." if direct_loopback_request() and ":" in request.host else "")
            raise ApiError(
                503, "spotify_redirect_not_configured",
                "Spotify login is not set up for this address: the server needs SPOTIFY_REDIRECT_URI, the "
                "https://<your host>/spotify/callback address registered with the Spotify app. "
                f"Recommendations still work without logging in.{local}",
            )
        settings = dataclasses.replace(settings, redirect_uri=redirect_uri)
    return settings


def _token_cache() -> DatabaseTokenCache | None:
    key = session.get(USER_KEY)
    if not key:
        return None
    cache = DatabaseTokenCache(db.session, key)
    return cache if cache.get_cached_token() is not None else None


@bp.get("/status")
def status() -> Response:
    """Whether login is available and done, and whether the catalogue refreshes from Spotify."""
    refreshing, catalogue_message = spotify_configured(current_app.config)
    login_available, login_message = login_status()
    cache = _token_cache()
    return jsonify(
        login_available=login_available,
        login_message=login_message,
        logged_in=cache is not None,
        display_name=cache.display_name() if cache else None,
        catalogue={"refreshes": refreshing, "message": catalogue_message},
        notice=pop_notice(),
    )


@bp.get("/login")
def login() -> Any:
    """Start the PKCE flow: remember verifier and state in the session, send the user to Spotify.

    ``?analysis=<id>`` names the result to come back to.
    """
    remember_return(request.args.get("analysis"))
    if not SpotifySettings.from_config(current_app.config).client_id:
        raise ApiError(
            503, "spotify_not_configured",
            "Spotify login is not set up on this server (SPOTIFY_CLIENT_ID is missing); "
            "recommendations still work without it.",
        )
    settings = _settings()
    # spotipy makes the verifier and its S256 challenge; it has no state helper, so one line here.
    state = secrets.token_urlsafe(16)
    manager = pkce_manager(settings, MemoryCacheHandler(), state=state)
    manager.get_pkce_handshake_parameters()
    session[PKCE_KEY] = {"verifier": manager.code_verifier, "challenge": manager.code_challenge, "state": state}
    return redirect(manager.get_authorize_url(state))


@bp.get("/callback")
def callback() -> Any:
    """Spotify sends the user back here with a code; exchange it and keep the tokens server-side."""
    pending = session.pop(PKCE_KEY, None)
    if request.args.get("error"):
        raise ApiError(
            400, "spotify_login_declined",
            "Spotify login was cancelled, so nothing was connected. Use 'Connect Spotify' to try again.",
        )
    code = request.args.get("code")
    if not pending or not code or request.args.get("state") != pending.get("state"):
        raise ApiError(
            400, "spotify_login_invalid",
            "This Spotify login link is stale or was not started here. Use 'Connect Spotify' again.",
        )
    settings = _settings()
    user_key = session.get(USER_KEY) or secrets.token_urlsafe(24)
    cache = DatabaseTokenCache(db.session, user_key)
    try:
        manager = pkce_manager(settings, cache)
        manager.code_verifier, manager.code_challenge = pending["verifier"], pending["challenge"]
        with translated_errors("logging in", user=True):
            manager.get_access_token(code=code, check_cache=False)
        cache.set_profile(UserClient(settings, manager).me())
    except SpotifyError as exc:
        log.warning("Spotify login failed: %s", exc.message)
        cache.clear()
        if isinstance(exc, Forbidden) and exc.cause == "user_not_allowlisted":
            raise spotify_problem(exc, "logging in") from None
        raise ApiError(
            502, "spotify_login_failed",
            f"Spotify did not complete the login ({exc.message}). Try 'Connect Spotify' again.",
        ) from None
    session[USER_KEY] = user_key
    return back_to_page("connected")


@bp.post("/logout")
def logout() -> tuple[str, int]:
    """Forget this browser's Spotify tokens."""
    key = session.pop(USER_KEY, None)
    if key:
        DatabaseTokenCache(db.session, key).clear()
    return "", 204


@bp.post("/playlists")
def save_playlist() -> tuple[Response, int]:
    """Create a new private playlist in the user's account (``recommender.saving``); errors as ApiError."""
    example = '{"emotion": "Happy", "strategy": "match"} (and "source_playlist_id", optional).'
    body = json_object("invalid_playlist_request", example)
    for name in ("emotion", "strategy", "source_playlist_id"):
        if body.get(name) is not None and not is_text(body[name]):
            raise ApiError(400, "invalid_playlist_request", f"{name} must be text. Send {example}")
    cache = _token_cache()
    source = body.get("source_playlist_id")
    try:
        if cache is None:
            # Bad input is still reported first, as before the move.
            check_emotion(str(body.get("emotion")))
            check_strategy(str(body.get("strategy")))
            raise ApiError(401, "spotify_login_required", "Connect Spotify first to save playlists to your account.")
        created = save_to_account(db.session, _settings(), cache, str(body.get("emotion")),
                                  str(body.get("strategy")), source)
    except (UnknownEmotion, UnknownStrategy) as exc:
        raise ApiError(400, "invalid_playlist_request", str(exc)) from None
    except NoMoodProfile as exc:
        raise ApiError(409, "no_profile", str(exc)) from None
    except LoginRequired:
        if cache is not None:
            cache.clear()
        raise ApiError(401, "spotify_login_expired", LOGIN_AGAIN) from None
    except SpotifyNotConfigured as exc:
        raise ApiError(503, "spotify_not_configured", exc.message) from None
    except SpotifyError as exc:
        log.warning("Saving a playlist failed: %s", exc.message)
        raise spotify_problem(exc, "saving the playlist") from None
    return jsonify(created), 201
