"""Slow and stalled request bodies cannot pile up in a web process (gunicorn's gevent workers).

A body must keep arriving: a client that sends nothing for BODY_IDLE_S, or takes longer than
BODY_TOTAL_S for the whole body, gets a 408 (``SlowBody``) and its connection back. And what the
bodies being read may hold is budgeted: each request reserves its declared length (at most the
upload limit) from BODY_BUDGET_BYTES before its body is read; when the budget is spent a request
waits up to BUDGET_WAIT_S for room, then gets a 503 with Retry-After, its body never read. So a
worker holds at most the budget in request bodies, whatever the number of slow clients.
"""

from __future__ import annotations

import json
import time
from typing import Any, Callable, Iterable

from werkzeug.exceptions import RequestTimeout

# Longest silence while reading a request body, and longest time for all of it (10 MB over a slow
# 1 Mbit/s phone uplink takes about 80 s).
BODY_IDLE_S = 10.0
BODY_TOTAL_S = 120.0
# Request bodies one web process may be reading at once, in bytes (25 full 10 MB uploads), and how
# long a request waits for room before it is told to come back.
BODY_BUDGET_BYTES = 256 * 1024 * 1024
BUDGET_WAIT_S = 5.0
BUSY_MESSAGE = "The server is receiving too many uploads at once: try again in a few seconds."


class SlowBody(RequestTimeout):
    """408: the request body stopped arriving (or arrived too slowly)."""

    description = "The request body stopped arriving."


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


class _Budget:
    """Bytes of request bodies this process may hold; greenlets wait on an event for room."""

    def __init__(self, total: int, event: Any) -> None:
        self.free, self._room = total, event

    def take(self, size: int, wait_s: float) -> bool:
        deadline = time.monotonic() + wait_s
        while self.free < size:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._room.clear()
            self._room.wait(left)
        self.free -= size
        return True

    def give(self, size: int) -> None:
        self.free += size
        self._room.set()


class SlowBodyLimit:
    """WSGI middleware applying the deadlines and the budget above in gevent workers.

    Only where gevent has patched the socket module (gunicorn's gevent worker) can a blocked read
    be interrupted or a request wait without blocking the others; elsewhere (tests, other servers)
    requests pass through unchanged.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]], max_body: int | None, budget: int = BODY_BUDGET_BYTES,
                 idle_s: float = BODY_IDLE_S, total_s: float = BODY_TOTAL_S) -> None:
        self.app, self.max_body, self.idle_s, self.total_s = app, max_body or budget, idle_s, total_s
        self.budget_bytes = budget
        self._budget: _Budget | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            from gevent import Timeout, event, monkey
        except ImportError:
            return self.app(environ, start_response)
        size = self._declared(environ)
        if not size or not monkey.is_module_patched("socket"):
            return self.app(environ, start_response)
        if self._budget is None:
            self._budget = _Budget(self.budget_bytes, event.Event())
        if not self._budget.take(size, BUDGET_WAIT_S):
            return _busy(start_response)
        try:
            environ["wsgi.input"] = _DeadlineInput(environ["wsgi.input"], Timeout, self.idle_s, self.total_s)
            return self.app(environ, start_response)
        finally:
            self._budget.give(size)

    def _declared(self, environ: dict[str, Any]) -> int:
        """What this request's body may hold: its Content-Length (a chunked one: the upload limit)."""
        if environ.get("wsgi.input") is None:
            return 0
        if environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
            return self.max_body
        try:
            return min(max(int(environ.get("CONTENT_LENGTH") or 0), 0), self.max_body)
        except ValueError:
            return 0


def _busy(start_response: Callable[..., Any]) -> list[bytes]:
    """503 in the API's error shape, the body left unread."""
    body = json.dumps({"error": {"code": "server_busy", "message": BUSY_MESSAGE}}).encode()
    start_response("503 Service Unavailable", [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                                               ("Retry-After", str(int(BUDGET_WAIT_S))), ("Cache-Control", "no-store")])
    return [body]
