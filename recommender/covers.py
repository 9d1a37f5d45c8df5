"""Where playlist covers may come from: one list for the catalogue and the page's Content-Security-Policy."""

from __future__ import annotations

from urllib.parse import urlsplit

# Hosts Spotify serves playlist covers from (oEmbed thumbnails and Web API images). A cover on any
# other host is dropped, so the page's Content-Security-Policy can allow exactly these.
COVER_HOSTS: tuple[str, ...] = (
    "i.scdn.co",
    "mosaic.scdn.co",
    "image-cdn-ak.spotifycdn.com",
    "image-cdn-fa.spotifycdn.com",
)


def safe_cover_url(url: object) -> str | None:
    """``url`` if it is an https URL on one of ``COVER_HOSTS``, else None (the card shows a placeholder)."""
    if not isinstance(url, str):
        return None
    parts = urlsplit(url)
    return url if parts.scheme == "https" and parts.hostname in COVER_HOSTS else None
