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


class QuotaExceeded(RateLimited):
    """A 429 whose body says ``"reason": "QUOTA_EXCEEDED"``: the app's quota is spent for hours.

    Unlike a short rate limit this is not worth retrying within the run: the whole refresh stops
    and waits for its next scheduled run (or the Retry-After, whichever is later).
    """


FORBIDDEN_CAUSES: dict[str, str] = {
    "premium_required": (
        "Spotify refused because the app owner's Premium subscription has lapsed; apps in "
        "development mode work only while their owner has Premium."
    ),
    "user_not_allowlisted": (
        "Spotify refused because this Spotify account is not on the app's allowlist (User "
        "Management in the developer dashboard, at most 5 users in development mode)."
    ),
    "endpoint_not_allowed": (
        "Spotify refused because this endpoint is not available to apps in development mode."
    ),
}


class Forbidden(SpotifyError):
    """A 403, with ``cause`` one of ``FORBIDDEN_CAUSES`` so the message names the real reason."""

    def __init__(self, cause: str, what: str) -> None:
        super().__init__(f"{FORBIDDEN_CAUSES[cause]} (during {what})")
        self.cause = cause


class PlaylistGone(SpotifyError):
    """Spotify answered 404 for a playlist: it was deleted or made private."""


class MalformedAnswer(SpotifyError):
    """Spotify answered 200 with a body we cannot read; the entry is left as it was."""


class NoMoodProfile(LookupError):
    """No mood profile exists for an emotion-strategy pair (the catalogue is not seeded)."""
