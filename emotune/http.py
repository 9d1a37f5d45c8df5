"""How requests reach the app: uploads kept in memory, trusted proxy hops, bounded URLs and headers.

Werkzeug spools a multipart upload over 500 KB to a temporary file; a selfie must never touch a
disk, so uploads are parsed into memory instead (MAX_CONTENT_LENGTH bounds their size). Behind
EMOTUNE_PROXY_HOPS trusted proxies, ProxyFix takes the client address and scheme from their
X-Forwarded-* headers (rate limits per person, HSTS over HTTPS). URLs and header blocks too long
to be honest get the API's JSON error here, before the front server's own limits would answer
with its plain-text one. Slow and stalled request bodies are bounded by ``emotune.slow_bodies``.
"""

from __future__ import annotations

import io
import ipaddress
from typing import IO

from flask import Flask, Request, request
from werkzeug.exceptions import HTTPException, RequestHeaderFieldsTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from emotune import response_policy
from emotune.multipart import NamedPartsParser
from emotune.slow_bodies import SlowBodyLimit

# Below gunicorn's own limits (request line 4094 bytes, 8190 bytes per header field).
MAX_URL_BYTES = 2048
MAX_HEADER_BYTES = 16 * 1024


class InMemoryRequest(Request):
    """A request whose uploaded files are parsed into memory, never into a temporary file."""

    form_data_parser_class = NamedPartsParser

    def _get_file_stream(self, total_content_length: int | None, content_type: str | None,
                         filename: str | None = None, content_length: int | None = None) -> IO[bytes]:
        return io.BytesIO()


class URITooLong(HTTPException):
    """414: werkzeug has no class of its own for it."""

    code = 414
    description = "The address is too long."


# Headers by which a proxy says whom it relays: a request carrying any of them is not a local one.
RELAY_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


def is_loopback(address: str | None) -> bool:
    """Whether ``address`` (an IP, IPv6 possibly in brackets) is a loopback address."""
    try:
        return ipaddress.ip_address((address or "").strip("[]")).is_loopback
    except ValueError:
        return False


def direct_loopback_request() -> bool:
    """Whether this request comes from this machine itself, not relayed by a proxy."""
    relayed = any(name in request.headers for name in RELAY_HEADERS)
    return not relayed and is_loopback(request.remote_addr)


def reject_oversized_requests() -> None:
    """Answer 414/431 (as JSON, through the error handlers) for over-long URLs and header blocks."""
    if len(request.full_path.encode("utf-8")) > MAX_URL_BYTES:
        raise URITooLong()
    if sum(len(name) + len(value) + 4 for name, value in request.headers.items()) > MAX_HEADER_BYTES:
        raise RequestHeaderFieldsTooLarge()


def init_app(app: Flask) -> None:
    """Install the in-memory request class, the body deadlines, the trusted-proxy fix, the size checks
    and the response header rules (``emotune.response_policy``)."""
    app.request_class = InMemoryRequest
    app.wsgi_app = SlowBodyLimit(app.wsgi_app, app.config["MAX_CONTENT_LENGTH"])  # type: ignore[method-assign]
    hops = app.config["EMOTUNE_PROXY_HOPS"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    app.before_request(reject_oversized_requests)
    response_policy.init_app(app)
