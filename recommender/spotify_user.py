"""Spotify on behalf of one logged-in user (authorization code with PKCE): profile, new playlist, tracks.

Built on the same plain, retry-free session and typed errors as the catalogue client
(``recommender.spotify_client``).
"""

from __future__ import annotations

from typing import Any

import requests
from spotipy.cache_handler import CacheHandler
from spotipy.oauth2 import SpotifyPKCE

from recommender.errors import LoginRequired, SpotifyError, SpotifyNotConfigured
from recommender.spotify_client import (SEARCH_PAGE_LIMIT, SpotifySettings, plain_session, search_track_uris,
                                        spotify_api, translated_errors)

USER_SCOPES = "playlist-modify-private playlist-modify-public"


class ServerSidePKCE(SpotifyPKCE):
    """PKCE that never prompts on a terminal: on a server, a missing login means 'log in again'."""

    def get_authorization_code(self, response: str | None = None) -> str:  # type: ignore[override]
        if response:
            return super().get_authorization_code(response)
        raise LoginRequired("You are not logged in with Spotify: log in with Spotify first.")


def pkce_manager(
    settings: SpotifySettings,
    cache_handler: CacheHandler,
    session: requests.Session | None = None,
    state: str | None = None,
) -> ServerSidePKCE:
    """A PKCE auth manager pointed at the configured accounts host, tokens in ``cache_handler``."""
    if not settings.client_id:
        raise SpotifyNotConfigured("SPOTIFY_CLIENT_ID is not set, so Spotify login is unavailable.")
    manager = ServerSidePKCE(
        client_id=settings.client_id,
        redirect_uri=settings.redirect_uri,
        state=state,
        scope=USER_SCOPES,
        requests_timeout=settings.timeout_s,
        requests_session=session or plain_session(),
        open_browser=False,
        cache_handler=cache_handler,
    )
    manager.OAUTH_TOKEN_URL = settings.token_url
    manager.OAUTH_AUTHORIZE_URL = settings.authorize_url
    return manager


class UserClient:
    """Spotify access on behalf of one logged-in user: profile, new playlist, add items."""

    def __init__(self, settings: SpotifySettings, manager: SpotifyPKCE) -> None:
        self.settings = settings
        self.manager = manager
        self.sp = spotify_api(settings, manager, manager._session)

    def me(self) -> dict[str, Any]:
        """The user's profile (id, display_name)."""
        with translated_errors("reading your profile", user=True):
            body = self.sp.me()
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            raise SpotifyError("Spotify sent an unreadable profile; try again later.")
        return body

    def search_track_uris(self, query: str, limit: int = SEARCH_PAGE_LIMIT) -> list[str]:
        """Track URIs for ``query`` (one page of at most 10)."""
        return search_track_uris(self.sp, query, limit, user=True)

    def create_playlist(self, name: str, description: str, uris: list[str]) -> dict[str, Any]:
        """POST /me/playlists, then POST /playlists/{id}/items; returns id, name, url, tracks_added."""
        with translated_errors("creating the playlist", user=True):
            created = self.sp.current_user_playlist_create(
                name, public=False, description=description
            )
        if not isinstance(created, dict) or not isinstance(created.get("id"), str):
            raise SpotifyError("Spotify did not confirm the new playlist; try again later.")
        playlist_id = created["id"]
        if uris:
            with translated_errors("adding tracks to the playlist", user=True):
                self.sp.playlist_add_items(playlist_id, uris)
        url = (created.get("external_urls") or {}).get("spotify") or (
            f"https://open.spotify.com/playlist/{playlist_id}"
        )
        return {"id": playlist_id, "name": created.get("name", name), "url": url, "tracks_added": len(uris)}
