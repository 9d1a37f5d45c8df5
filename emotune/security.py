"""Security headers for every response: a tight Content-Security-Policy and friends.

The page needs only its own scripts, styles and API, the in-memory selfie (``blob:``/``data:``
images), playlist cover art from Spotify's image CDNs and the Spotify embed player frame.
Everything else is refused, and no other site may frame EmoTune.
"""

from flask import Flask, Response

# Spotify serves playlist covers from several CDN hosts; the wildcards cover all of them.
SPOTIFY_IMAGE_SOURCES = ("https://i.scdn.co", "https://*.scdn.co", "https://*.spotifycdn.com")
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
    """Return the Content-Security-Policy header value."""
    return "; ".join(f"{name} {' '.join(values)}" for name, values in CONTENT_SECURITY_POLICY.items())


def permissions_policy() -> str:
    """Return the Permissions-Policy header value."""
    return ", ".join(f"{feature}={allow}" for feature, allow in PERMISSIONS_POLICY.items())


def security_headers() -> dict[str, str]:
    """Return every security header EmoTune sets, by name."""
    return {
        "Content-Security-Policy": content_security_policy(),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Permissions-Policy": permissions_policy(),
        # Older browsers ignore frame-ancestors; X-Frame-Options covers them.
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
    }


def _apply_headers(response: Response) -> Response:
    # setdefault so a view that deliberately sets its own header keeps it.
    for name, value in security_headers().items():
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    """Add the security headers to every response of ``app``."""
    app.after_request(_apply_headers)
