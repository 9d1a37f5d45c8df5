"""Optional Spotify login (authorization code with PKCE) and "save as a playlist in my account".

Tokens stay on the server (``spotify_tokens`` table) under a random key kept in the signed session
cookie; the browser never sees them. Everything else in EmoTune works without logging in.
Routes: GET /spotify/login, GET /spotify/callback, GET /spotify/status, POST /spotify/logout,
POST /spotify/playlists (JSON ``{"emotion", "strategy", "source_playlist_id"?}``).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import logging
import secrets
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, redirect, request, session
from sqlalchemy import select
from spotipy.cache_handler import MemoryCacheHandler

from emotune.api.errors import error_response
from emotune.extensions import db
from recommender.errors import LoginRequired, RateLimited, SpotifyError, SpotifyNotConfigured
from recommender.models import MoodProfile, Playlist
from recommender.refresh import spotify_configured
from recommender.service import ADJECTIVES
from recommender.spotify_client import SpotifySettings, UserClient, pkce_manager, translated_errors
from recommender.strategies import UnknownEmotion, UnknownStrategy, check_emotion, check_strategy
from recommender.tokens import DatabaseTokenCache

log = logging.getLogger(__name__)

bp = Blueprint("spotify_auth", __name__, url_prefix="/spotify")

USER_KEY = "spotify_user"
PKCE_KEY = "spotify_pkce"
MAX_TRACKS = 30
LOGIN_AGAIN = "Your Spotify login has expired or was revoked: log in with Spotify again."


def _settings() -> SpotifySettings:
    settings = SpotifySettings.from_config(current_app.config)
    if settings.redirect_uri is None:
        # Loopback redirect for local use; Spotify accepts http only on 127.0.0.1.
        settings = dataclasses.replace(settings, redirect_uri=request.host_url.rstrip("/") + "/spotify/callback")
    return settings


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _token_cache() -> DatabaseTokenCache | None:
    key = session.get(USER_KEY)
    if not key:
        return None
    cache = DatabaseTokenCache(db.session, key)
    return cache if cache.get_cached_token() is not None else None


@bp.get("/status")
def status() -> Response:
    """Whether login is available and done, and whether the catalogue refreshes from Spotify."""
    settings = SpotifySettings.from_config(current_app.config)
    refreshing, catalogue_message = spotify_configured(current_app.config)
    cache = _token_cache()
    return jsonify(
        login_available=bool(settings.client_id),
        logged_in=cache is not None,
        display_name=cache.display_name() if cache else None,
        catalogue={"refreshes": refreshing, "message": catalogue_message},
    )


@bp.get("/login")
def login() -> Any:
    """Start the PKCE flow: remember verifier and state in the session, send the user to Spotify."""
    settings = _settings()
    if not settings.client_id:
        return error_response(
            503, "spotify_not_configured",
            "Spotify login is not set up on this server (SPOTIFY_CLIENT_ID is missing); "
            "recommendations still work without it.",
        )
    verifier = secrets.token_urlsafe(64)
    state = secrets.token_urlsafe(16)
    session[PKCE_KEY] = {"verifier": verifier, "state": state}
    manager = pkce_manager(settings, MemoryCacheHandler(), state=state)
    manager.code_verifier, manager.code_challenge = verifier, _challenge(verifier)
    return redirect(manager.get_authorize_url(state))


@bp.get("/callback")
def callback() -> Any:
    """Spotify sends the user back here with a code; exchange it and keep the tokens server-side."""
    pending = session.pop(PKCE_KEY, None)
    if request.args.get("error"):
        return error_response(
            400, "spotify_login_declined",
            "Spotify login was cancelled, so nothing was connected. Use 'Log in with Spotify' to try again.",
        )
    code = request.args.get("code")
    if not pending or not code or request.args.get("state") != pending.get("state"):
        return error_response(
            400, "spotify_login_invalid",
            "This Spotify login link is stale or was not started here. Use 'Log in with Spotify' again.",
        )
    settings = _settings()
    user_key = session.get(USER_KEY) or secrets.token_urlsafe(24)
    cache = DatabaseTokenCache(db.session, user_key)
    try:
        manager = pkce_manager(settings, cache)
        manager.code_verifier, manager.code_challenge = pending["verifier"], _challenge(pending["verifier"])
        with translated_errors("logging in", user=True):
            manager.get_access_token(code=code, check_cache=False)
        cache.set_profile(UserClient(settings, manager).me())
    except SpotifyError as exc:
        log.warning("Spotify login failed: %s", exc.message)
        return error_response(
            502, "spotify_login_failed",
            f"Spotify did not complete the login ({exc.message}). Try 'Log in with Spotify' again.",
        )
    session[USER_KEY] = user_key
    return redirect("/?spotify=connected")


@bp.post("/logout")
def logout() -> tuple[str, int]:
    """Forget this browser's Spotify tokens."""
    key = session.pop(USER_KEY, None)
    if key:
        DatabaseTokenCache(db.session, key).clear()
    return "", 204


def _playlist_text(profile: MoodProfile, source: Playlist | None) -> tuple[str, str]:
    label = profile.label or profile.strategy
    name = f"EmoTune: {label} for feeling {ADJECTIVES[profile.emotion]}"
    description = (
        f"Made by EmoTune from tracks Spotify search finds for '{label}' "
        f"({profile.strategy} strategy, {ADJECTIVES[profile.emotion]} mood)."
    )
    if source is not None:
        description += f" Inspired by the playlist {source.name}."
    return name[:100], description[:300]


@bp.post("/playlists")
def save_playlist() -> tuple[Response, int]:
    """Create a new private playlist in the user's account, filled with tracks found by search."""
    body = request.get_json(silent=True) or {}
    try:
        emotion = check_emotion(str(body.get("emotion")))
        strategy = check_strategy(str(body.get("strategy")))
    except (UnknownEmotion, UnknownStrategy) as exc:
        return error_response(400, "invalid_playlist_request", str(exc))
    cache = _token_cache()
    if cache is None:
        return error_response(401, "spotify_login_required",
                              "Log in with Spotify first to save playlists to your account.")
    profile = db.session.scalar(
        select(MoodProfile).where(MoodProfile.emotion == emotion, MoodProfile.strategy == strategy)
    )
    if profile is None:
        return error_response(409, "no_profile", "There is no mood profile for this emotion and strategy yet; "
                                                 "run `flask seed-playlists` first.")
    source = None
    if isinstance(body.get("source_playlist_id"), str):
        source = db.session.scalar(select(Playlist).where(Playlist.spotify_id == body["source_playlist_id"]))
    name, description = _playlist_text(profile, source)
    try:
        client = UserClient(_settings(), pkce_manager(_settings(), cache))
        uris: list[str] = []
        for term in profile.search_terms:
            uris += [u for u in client.search_track_uris(term) if u not in uris]
        created = client.create_playlist(name, description, uris[:MAX_TRACKS])
    except LoginRequired:
        cache.clear()
        return error_response(401, "spotify_login_expired", LOGIN_AGAIN)
    except RateLimited as exc:
        response, status = error_response(
            503, "spotify_busy", f"Spotify is busy right now; try again in {exc.retry_after:.0f} seconds."
        )
        response.headers["Retry-After"] = str(int(exc.retry_after))
        return response, status
    except SpotifyNotConfigured as exc:
        return error_response(503, "spotify_not_configured", exc.message)
    except SpotifyError as exc:
        log.warning("Saving a playlist for %s/%s failed: %s", emotion, strategy, exc.message)
        return error_response(502, "spotify_failed", f"{exc.message} Nothing was lost; try again later.")
    return jsonify(created), 201
