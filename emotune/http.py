"""How requests reach the app: uploads kept in memory, trusted proxy hops, bounded URLs and headers.

Werkzeug spools a multipart upload over 500 KB to a temporary file; a selfie must never touch a
disk, so uploads are parsed into memory instead (MAX_CONTENT_LENGTH bounds their size). Behind
EMOTUNE_PROXY_HOPS trusted proxies, ProxyFix takes the client address and scheme from their
X-Forwarded-* headers (rate limits per person, HSTS over HTTPS). URLs and header blocks too long
to be honest get the API's JSON error here, before the front server's own limits would answer
with its plain-text one. Under gunicorn's gevent workers a request body must keep arriving: a
client that sends nothing for BODY_IDLE_S, or takes longer than BODY_TOTAL_S for the whole body,
gets a 408 and its connection back, so stalled uploads cannot pile up (``SlowBodyLimit``).
"""

from __future__ import annotations

import io
import ipaddress
import time
from typing import IO, Any, Callable, Iterable

from flask import Flask, Request, request
from werkzeug.exceptions import HTTPException, RequestHeaderFieldsTooLarge, RequestTimeout
from werkzeug.middleware.proxy_fix import ProxyFix

from emotune import response_policy
from emotune.multipart import NamedPartsParser

# Below gunicorn's own limits (request line 4094 bytes, 8190 bytes per header field).
MAX_URL_BYTES = 2048
MAX_HEADER_BYTES = 16 * 1024
# Longest silence while reading a request body, and longest time for all of it (10 MB over a slow
# 1 Mbit/s phone uplink takes about 80 s).
BODY_IDLE_S = 10.0
BODY_TOTAL_S = 120.0


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


class _DeadlineInput:
    """``wsgi.input`` whose reads give up with a 408 when the client goes quiet or takes too long."""

    def __init__(self, stream: Any, timeout_class: Any, idle_s: float, total_s: float) -> None:
        self._stream, self._timeout_class = stream, timeout_class
        self._idle_s, self._deadline = idle_s, time.monotonic() + total_s

    def _timed(self, method: str, *args: Any) -> Any:
        limit = min(self._idle_s, self._deadline - time.monotonic())
        if limit <= 0:
            raise SlowBody()
        with self._timeout_class(limit, SlowBody()):
            return getattr(self._stream, method)(*args)

    def read(self, *args: Any) -> bytes:
        return self._timed("read", *args)

    def readline(self, *args: Any) -> bytes:
        return self._timed("readline", *args)

    def __iter__(self) -> Any:
        return iter(self.readline, b"")


class SlowBody(RequestTimeout):
    """408: the request body stopped arriving (or arrived too slowly)."""

    description = "The request body stopped arriving."


class SlowBodyLimit:
    """WSGI middleware: bodies are read under BODY_IDLE_S / BODY_TOTAL_S deadlines (gevent workers).

    Only where gevent has patched the socket module (gunicorn's gevent worker) can a blocked read
    be interrupted; elsewhere (tests, other servers) requests pass through unchanged.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]], idle_s: float = BODY_IDLE_S,
                 total_s: float = BODY_TOTAL_S) -> None:
        self.app, self.idle_s, self.total_s = app, idle_s, total_s

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            from gevent import Timeout, monkey
        except ImportError:
            return self.app(environ, start_response)
        if monkey.is_module_patched("socket") and environ.get("wsgi.input") is not None:
            environ["wsgi.input"] = _DeadlineInput(environ["wsgi.input"], Timeout, self.idle_s, self.total_s)
        return self.app(environ, start_response)


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
    app.wsgi_app = SlowBodyLimit(app.wsgi_app)  # type: ignore[method-assign]
    hops = app.config["EMOTUNE_PROXY_HOPS"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    app.before_request(reject_oversized_requests)
    response_policy.init_app(app)
