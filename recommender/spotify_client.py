"""Spotify Web API access through spotipy, with retries off, timeouts on and typed errors.

spotipy's own retry adapter sleeps through ``Retry-After`` and hides the header when it gives up,
so every client here runs on a plain ``requests`` session without retries: a 429 surfaces at once
as ``RateLimited(retry_after)`` and the Celery task decides when to try again. Only endpoints that
Spotify still serves to Development Mode apps are called (search, me, me/playlists,
playlists/{id}/items); search pages hold at most 10 items.
"""

from __future__ import annotations

import contextlib
import html
import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import requests
import spotipy
from requests.adapters import HTTPAdapter
from spotipy.cache_handler import MemoryCacheHandler
from spotipy.exceptions import SpotifyException, SpotifyOauthError
from spotipy.oauth2 import SpotifyClientCredentials

from recommender.covers import safe_cover_url
from recommender.errors import (
    Forbidden,
    LoginRequired,
    QuotaExceeded,
    RateLimited,
    SpotifyAuthError,
    SpotifyError,
    SpotifyNotConfigured,
    SpotifyUnavailable,
)

log = logging.getLogger(__name__)

SEARCH_PAGE_LIMIT = 10  # Spotify's cap on items per search request since February 2026.
DEFAULT_RETRY_AFTER_S = 5.0


@dataclass(frozen=True)
class SpotifySettings:
    """Where Spotify lives and how the app identifies itself; built from Flask/env config."""

    client_id: str | None = None
    client_secret: str | None = None
    redirect_uri: str | None = None
    api_base: str = "https://api.spotify.com/v1"
    accounts_base: str = "https://accounts.spotify.com"
    timeout_s: float = 5.0
    oembed_base: str = "https://open.spotify.com"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SpotifySettings:
        """Read the SPOTIFY_* keys of a config mapping, falling back to Spotify's real hosts."""
        return cls(
            client_id=config.get("SPOTIFY_CLIENT_ID") or None,
            client_secret=config.get("SPOTIFY_CLIENT_SECRET") or None,
            redirect_uri=config.get("SPOTIFY_REDIRECT_URI") or None,
            api_base=(config.get("SPOTIFY_API_BASE") or cls.api_base).rstrip("/"),
            accounts_base=(config.get("SPOTIFY_ACCOUNTS_BASE") or cls.accounts_base).rstrip("/"),
            timeout_s=float(config.get("SPOTIFY_TIMEOUT_S") or cls.timeout_s),
            oembed_base=(config.get("SPOTIFY_OEMBED_BASE") or cls.oembed_base).rstrip("/"),
        )

    @property
    def token_url(self) -> str:
        return f"{self.accounts_base}/api/token"

    @property
    def authorize_url(self) -> str:
        return f"{self.accounts_base}/authorize"

    @property
    def has_client_credentials(self) -> bool:
        return bool(self.client_id and self.client_secret)


@dataclass(frozen=True)
class PlaylistCandidate:
    """A playlist as Spotify describes it, before scoring against a mood profile."""

    spotify_id: str
    name: str
    description: str
    owner: str
    url: str
    image_url: str | None
    track_count: int | None


@dataclass(frozen=True)
class SearchPage:
    """One page of playlist search results; ``skipped`` counts malformed items left out."""

    items: list[PlaylistCandidate]
    total: int
    next_offset: int | None
    skipped: int = 0
    malformed: bool = False


def plain_session() -> requests.Session:
    """A requests session that never retries, so no call ever sleeps on its own."""
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


@contextlib.contextmanager
def translated_errors(what: str, user: bool = False) -> Iterator[None]:
    """Turn spotipy/requests failures into the typed errors of ``recommender.errors``."""
    try:
        yield
    except SpotifyException as exc:
        status = exc.http_status
        if status == 429:
            if getattr(exc, "reason", None) == "QUOTA_EXCEEDED" or "QUOTA_EXCEEDED" in str(exc.msg):
                retry_after = _retry_after(exc.headers)
                raise QuotaExceeded(
                    retry_after, f"Spotify's quota for this app is used up (QUOTA_EXCEEDED, Retry-After "
                    f"{retry_after:.0f} s) during {what}."
                ) from exc
            raise RateLimited(_retry_after(exc.headers)) from exc
        if status == 403:
            raise Forbidden(forbidden_cause(str(exc.msg)), what) from exc
        if status == 401 and user:
            raise LoginRequired(
                "Your Spotify login has expired or was revoked: log in with Spotify again."
            ) from exc
        if status in (401, 403) and not user:
            raise SpotifyAuthError(f"Spotify refused the app's access for {what}.") from exc
        if status is not None and status >= 500:
            raise SpotifyUnavailable(f"Spotify had an error ({status}) during {what}.") from exc
        raise SpotifyError(f"Spotify answered {status} to {what}.") from exc
    except SpotifyOauthError as exc:
        if user:
            raise LoginRequired(
                "Your Spotify login has expired or was revoked: log in with Spotify again."
            ) from exc
        raise SpotifyAuthError(
            "Spotify refused the client id/secret; check SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET."
        ) from exc
    except requests.Timeout as exc:
        raise SpotifyUnavailable(f"Spotify did not answer in time during {what}.") from exc
    except requests.ConnectionError as exc:
        raise SpotifyUnavailable(f"Spotify could not be reached during {what}.") from exc


def forbidden_cause(message: str) -> str:
    """Name the cause of a 403 from Spotify's wording: lapsed Premium, allowlist or endpoint."""
    text = message.lower()
    if "premium" in text:
        return "premium_required"
    if "not be registered" in text or "not registered" in text or "allowlist" in text:
        return "user_not_allowlisted"
    return "endpoint_not_allowed"


def _retry_after(headers: Mapping[str, str] | None) -> float:
    raw = (headers or {}).get("Retry-After")
    try:
        return max(0.0, float(raw)) if raw is not None else DEFAULT_RETRY_AFTER_S
    except ValueError:
        return DEFAULT_RETRY_AFTER_S


def spotify_api(settings: SpotifySettings, auth_manager: Any, session: requests.Session) -> spotipy.Spotify:
    client = spotipy.Spotify(
        auth_manager=auth_manager,
        requests_session=session,
        requests_timeout=settings.timeout_s,
        retries=0,
        status_retries=0,
        backoff_factor=0,
    )
    client.prefix = settings.api_base + "/"
    return client


_TAG = re.compile(r"<[^>]+>")


def clean_text(value: Any) -> str:
    """Spotify descriptions carry HTML links and entities; keep only the words."""
    if not isinstance(value, str):
        return ""
    return " ".join(html.unescape(_TAG.sub(" ", value)).split())


def parse_playlist(item: Any) -> PlaylistCandidate | None:
    """Build a candidate from one search item, or None when the item is malformed."""
    if not isinstance(item, dict):
        return None
    spotify_id = item.get("id")
    name = item.get("name")
    if not isinstance(spotify_id, str) or not spotify_id.isalnum() or not isinstance(name, str):
        return None
    owner = item.get("owner") if isinstance(item.get("owner"), dict) else {}
    tracks = item.get("tracks") if isinstance(item.get("tracks"), dict) else {}
    # The field was renamed from "tracks" to "items" in 2026; accept both.
    if not tracks and isinstance(item.get("items"), dict):
        tracks = item["items"]
    total = tracks.get("total")
    images = item.get("images") if isinstance(item.get("images"), list) else []
    image_url = next(
        (i["url"] for i in images if isinstance(i, dict) and isinstance(i.get("url"), str)), None
    )
    urls = item.get("external_urls") if isinstance(item.get("external_urls"), dict) else {}
    return PlaylistCandidate(
        spotify_id=spotify_id,
        name=clean_text(name)[:300],
        description=clean_text(item.get("description"))[:2000],
        owner=clean_text(owner.get("display_name") or owner.get("id") or "")[:200],
        url=urls.get("spotify") or f"https://open.spotify.com/playlist/{spotify_id}",
        image_url=safe_cover_url(image_url),
        track_count=total if isinstance(total, int) else None,
    )


class CatalogueClient:
    """App-level Spotify access with client credentials: playlist and track search."""

    def __init__(self, settings: SpotifySettings, session: requests.Session | None = None) -> None:
        if not settings.has_client_credentials:
            raise SpotifyNotConfigured(
                "SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET are not set, so the catalogue stays as seeded."
            )
        self.settings = settings
        self._session = session or plain_session()
        auth = SpotifyClientCredentials(
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            requests_session=self._session,
            requests_timeout=settings.timeout_s,
            cache_handler=MemoryCacheHandler(),
        )
        auth.OAUTH_TOKEN_URL = settings.token_url  # instance attribute beats the class default
        self.sp = spotify_api(settings, auth, self._session)

    def search_playlists(self, query: str, offset: int = 0, limit: int = SEARCH_PAGE_LIMIT) -> SearchPage:
        """One page of playlists matching ``query``; malformed bodies and items are logged and skipped."""
        limit = min(limit, SEARCH_PAGE_LIMIT)
        with translated_errors(f"playlist search {query!r}"):
            body = self.sp.search(q=query, type="playlist", limit=limit, offset=offset)
        page = body.get("playlists") if isinstance(body, dict) else None
        if not isinstance(page, dict) or not isinstance(page.get("items"), list):
            log.warning("Malformed Spotify search body for %r at offset %d; skipped", query, offset)
            return SearchPage(items=[], total=0, next_offset=None, malformed=True)
        items: list[PlaylistCandidate] = []
        skipped = 0
        for raw in page["items"]:
            parsed = parse_playlist(raw)
            if parsed is None:
                skipped += 1
            else:
                items.append(parsed)
        if skipped:
            log.info("Skipped %d malformed playlist items for %r", skipped, query)
        total = page.get("total") if isinstance(page.get("total"), int) else len(items)
        next_offset = offset + limit if page.get("next") and offset + limit < total else None
        return SearchPage(items=items, total=total, next_offset=next_offset, skipped=skipped)

    def iter_playlists(self, query: str, max_pages: int = 2) -> Iterator[SearchPage]:
        """Follow search pages of 10 until ``max_pages`` or the results run out."""
        offset: int | None = 0
        for _ in range(max_pages):
            if offset is None:
                return
            page = self.search_playlists(query, offset=offset)
            yield page
            offset = page.next_offset


def search_track_uris(sp: spotipy.Spotify, query: str, limit: int = SEARCH_PAGE_LIMIT, user: bool = False) -> list[str]:
    """Track URIs found by search, the only tracks a Development Mode app may read freely."""
    with translated_errors(f"track search {query!r}", user=user):
        body = sp.search(q=query, type="track", limit=min(limit, SEARCH_PAGE_LIMIT))
    page = body.get("tracks") if isinstance(body, dict) else None
    if not isinstance(page, dict) or not isinstance(page.get("items"), list):
        log.warning("Malformed Spotify track search body for %r; skipped", query)
        return []
    uris = []
    for item in page["items"]:
        uri = item.get("uri") if isinstance(item, dict) else None
        if isinstance(uri, str) and uri.startswith("spotify:track:"):
            uris.append(uri)
    return uris
