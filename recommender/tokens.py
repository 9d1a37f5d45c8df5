"""Per-user Spotify tokens kept in the database, as a spotipy cache handler.

spotipy's default cache is a shared ``.cache`` file; on a server that would mix users and leave
tokens on disk, so each logged-in browser gets a row keyed by a random id from its session.
"""

from __future__ import annotations

from typing import Any

from spotipy.cache_handler import CacheHandler
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from recommender.models import SpotifyToken


class DatabaseTokenCache(CacheHandler):
    """Read and write one user's token info in ``spotify_tokens``; commits on save."""

    def __init__(self, session: Session, user_key: str) -> None:
        self.session = session
        self.user_key = user_key

    def _row(self) -> SpotifyToken | None:
        return self.session.scalar(select(SpotifyToken).where(SpotifyToken.user_key == self.user_key))

    def get_cached_token(self) -> dict[str, Any] | None:
        row = self._row()
        if row is None:
            return None
        return {
            "access_token": row.access_token,
            "refresh_token": row.refresh_token,
            "scope": row.scope,
            "expires_at": row.expires_at,
            "token_type": "Bearer",
        }

    def save_token_to_cache(self, token_info: dict[str, Any]) -> None:
        row = self._row()
        if row is None:
            row = SpotifyToken(user_key=self.user_key)
            self.session.add(row)
        row.access_token = token_info["access_token"]
        row.refresh_token = token_info.get("refresh_token") or row.refresh_token
        row.scope = token_info.get("scope") or row.scope or ""
        row.expires_at = int(token_info["expires_at"])
        self.session.commit()

    def set_profile(self, profile: dict[str, Any]) -> None:
        """Remember whose account this is, to greet the user by name."""
        row = self._row()
        if row is not None:
            row.spotify_user_id = profile.get("id")
            row.display_name = profile.get("display_name") or profile.get("id")
            self.session.commit()

    def display_name(self) -> str | None:
        row = self._row()
        return row.display_name if row else None

    def clear(self) -> None:
        """Forget this user's tokens (logout, or Spotify said they are no longer valid)."""
        self.session.execute(delete(SpotifyToken).where(SpotifyToken.user_key == self.user_key))
        self.session.commit()
