"""Typed failures of the Spotify client, so callers can retry, wait or ask for a new login."""

from __future__ import annotations


class SpotifyError(Exception):
    """Any failure talking to Spotify; ``message`` is safe to show to a person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SpotifyNotConfigured(SpotifyError):
    """No client id/secret: the catalogue stays as seeded and login is unavailable."""


class RateLimited(SpotifyError):
    """Spotify answered 429; ``retry_after`` is its ``Retry-After`` in seconds."""

    def __init__(self, retry_after: float, message: str | None = None) -> None:
        super().__init__(message or f"Spotify is rate limiting us; try again in {retry_after:.0f} s.")
        self.retry_after = retry_after


class SpotifyUnavailable(SpotifyError):
    """Spotify answered 5xx, or did not answer within the timeout."""


class SpotifyAuthError(SpotifyError):
    """The app's client credentials were refused by the token endpoint."""


class LoginRequired(SpotifyError):
    """A user action needs a Spotify login that is missing, expired or revoked."""
