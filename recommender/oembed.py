"""Spotify's keyless oEmbed endpoint: does a playlist still exist, and what are its title and cover?

``GET {base}/oembed?url=https://open.spotify.com/playlist/<id>`` needs no credentials and answers
for editorial playlists too (which development-mode apps can no longer read through the Web API).
No retries here: a 429 surfaces at once as ``RateLimited`` or ``QuotaExceeded`` for the caller.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import requests

from recommender.errors import (
    Forbidden,
    MalformedAnswer,
    PlaylistGone,
    QuotaExceeded,
    RateLimited,
    SpotifyError,
    SpotifyUnavailable,
)
from recommender.covers import safe_cover_url
from recommender.spotify_client import DEFAULT_RETRY_AFTER_S, forbidden_cause, plain_session

log = logging.getLogger(__name__)

DEFAULT_OEMBED_BASE = "https://open.spotify.com"

@dataclass(frozen=True)
class OEmbedInfo:
    """What oEmbed says about a live playlist."""

    title: str
    cover_url: str | None


class OEmbedClient:
    """Ask oEmbed about playlists, one request each, with a timeout and typed errors."""

    def __init__(self, base: str = DEFAULT_OEMBED_BASE, timeout_s: float = 5.0,
                 session: requests.Session | None = None) -> None:
        self.base = base.rstrip("/")
        self.timeout_s = timeout_s
        self._session = session or plain_session()

    def playlist(self, spotify_id: str) -> OEmbedInfo:
        """Title and cover of a playlist; ``PlaylistGone`` on 404, other typed errors otherwise."""
        what = f"checking playlist {spotify_id} through oEmbed"
        try:
            response = self._session.get(
                f"{self.base}/oembed",
                params={"url": f"https://open.spotify.com/playlist/{spotify_id}"},
                timeout=self.timeout_s,
            )
        except requests.Timeout as exc:
            raise SpotifyUnavailable(f"Spotify did not answer in time while {what}.") from exc
        except requests.ConnectionError as exc:
            raise SpotifyUnavailable(f"Spotify could not be reached while {what}.") from exc
        status = response.status_code
        if status == 404:
            raise PlaylistGone(f"Spotify says playlist {spotify_id} no longer exists (404 from oEmbed).")
        if status == 429:
            retry_after = _retry_after(response.headers.get("Retry-After"))
            if "QUOTA_EXCEEDED" in response.text:
                raise QuotaExceeded(retry_after, f"Spotify's quota is used up (QUOTA_EXCEEDED) while {what}.")
            raise RateLimited(retry_after)
        if status == 403:
            raise Forbidden(forbidden_cause(response.text), what)
        if status >= 500:
            raise SpotifyUnavailable(f"Spotify had an error ({status}) while {what}.")
        if status != 200:
            raise SpotifyError(f"Spotify answered {status} while {what}.")
        try:
            body = response.json()
        except ValueError:
            body = None
        title = body.get("title") if isinstance(body, dict) else None
        if not isinstance(title, str) or not title.strip():
            raise MalformedAnswer(f"Spotify's oEmbed answer for {spotify_id} had no title.")
        return OEmbedInfo(title=" ".join(title.split())[:300], cover_url=safe_cover_url(body.get("thumbnail_url")))


def _retry_after(raw: str | None) -> float:
    try:
        return max(0.0, float(raw)) if raw is not None else DEFAULT_RETRY_AFTER_S
    except ValueError:
        return DEFAULT_RETRY_AFTER_S
