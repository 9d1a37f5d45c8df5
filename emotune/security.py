"""Security headers for every response (Flask-Talisman): a tight Content-Security-Policy and friends.

The page needs only its own scripts, styles and API, the in-memory selfie (``blob:``/``data:``
images), playlist cover art from the exact Spotify image hosts the catalogue accepts covers from
(``recommender.covers.COVER_HOSTS``; any other cover is dropped) and the Spotify embed player frame.
Everything else is refused, and no other site may frame EmoTune.
"""

from flask import Flask, Response
from flask_talisman import Talisman

from recommender.covers import COVER_HOSTS

# Exactly the hosts covers may come from (oEmbed thumbnails and Web API images), no wildcards.
SPOTIFY_IMAGE_SOURCES = tuple(f"https://{host}" for host in COVER_HOSTS)
SPOTIFY_EMBED_ORIGIN = "https://open.spotify.com"

CONTENT_SECURITY_POLICY: dict[str, tuple[str, ...]] = {
    "default-src": ("'self'",),
    "script-src": ("'self'",),
    "style-src": ("'self'",),
    "img-src": ("'self'", "blob:", "data:", *SPOTIFY_IMAGE_SOURCES),
    "media-src": ("'self'", "blob:"),
    "connect-src": ("'self'",),
    "font-src": ("'self'",),
    "frame-src": (SPOTIFY_EMBED_ORIGIN,),
    "object-src": ("'none'",),
    "base-uri": ("'self'",),
    "form-action": ("'self'",),
    "frame-ancestors": ("'none'",),
}

# The camera is for this page only; nothing else the browser offers is needed.
PERMISSIONS_POLICY: dict[str, str] = {
    "camera": "(self)",
    "microphone": "()",
    "geolocation": "()",
    "payment": "()",
    "usb": "()",
}


def content_security_policy() -> str:
    """The Content-Security-Policy header value, as Flask-Talisman writes it."""
    return "; ".join(f"{name} {' '.join(values)}" for name, values in CONTENT_SECURITY_POLICY.items())


def init_app(app: Flask) -> None:
    """Set the security headers on every response of ``app`` (Flask-Talisman).

    HTTPS is the proxy's job, so no redirect here; HSTS goes out on requests that arrived over
    HTTPS (behind the proxy, once ProxyFix has read its headers). Cookie flags stay as configured.
    """
    Talisman(
        app,
        force_https=False,
        content_security_policy=CONTENT_SECURITY_POLICY,
        permissions_policy=PERMISSIONS_POLICY,
        # Older browsers ignore frame-ancestors; X-Frame-Options covers them.
        frame_options="DENY",
        referrer_policy="strict-origin-when-cross-origin",
        # Cookie flags are the app's config alone (`emotune` turns Secure off for plain-http
        # localhost after the app is built); False here means Talisman leaves them alone.
        session_cookie_secure=False,
        session_cookie_http_only=False,
        session_cookie_samesite=app.config["SESSION_COOKIE_SAMESITE"],
    )
    app.after_request(_isolate_window)


def _isolate_window(response: Response) -> Response:
    # The one header Talisman does not set: no other site's window may keep a handle on ours.
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    return response
