"""The page's security headers: a CSP that allows exactly what the page needs, and friends."""

from __future__ import annotations

import urllib.request

from tests.browser.stack import Stack


def _directives(csp: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}


def test_page_headers_allow_the_spotify_embed_and_nothing_foreign(stack: Stack) -> None:
    with urllib.request.urlopen(stack.base_url + "/") as response:
        headers = response.headers
        body = response.read().decode()
    csp = _directives(headers["Content-Security-Policy"])
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["frame-src"] == ["https://open.spotify.com"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["connect-src"] == ["'self'"]
    assert {"blob:", "data:"} <= set(csp["img-src"])
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "camera=(self)" in headers["Permissions-Policy"]
    assert "microphone=()" in headers["Permissions-Policy"]
    # Everything the page loads is served from the repo, never from a CDN.
    assert "https://" not in body.split("<body>")[0]
    assert '<meta name="csrf-token" content="' in body and 'content=""' not in body.split("csrf-token")[1][:12]
