"""Stalled uploads cannot take the web server down: a thousand of them leave /healthz answering,
each is answered 408 and let go once its body has been silent for BODY_IDLE_S, and those beyond
the worker's body budget are told 503 to come back, their bodies never read."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import requests

from emotune.gunicorn_conf import raise_fd_limit
from emotune.slow_bodies import BODY_BUDGET_BYTES, BODY_IDLE_S, BUDGET_WAIT_S
from tests.conftest import unique_name
from tests.integration.processes import free_port, service_env, start_gunicorn

STALLED = 1000
LARGE = 20
SMALL_BYTES, LARGE_BYTES = 100_000, 10_000_000


def stalled_upload(length: int) -> bytes:
    """An upload's headers and the first 100 bytes of a ``length``-byte body, then nothing."""
    return (
        b"POST /api/analyses HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: multipart/form-data; boundary=xyz\r\nContent-Length: %d\r\n\r\n" % length
        + b"--xyz\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.jpg\"\r\n\r\n"[:100].ljust(100, b"a")
    )


def answer(client: socket.socket, until: float, marker: bytes) -> bytes:
    """What the server sent on ``client`` up to ``marker`` (or until it closed, or ``until``)."""
    data = b""
    while marker not in data and time.monotonic() < until:
        client.settimeout(max(0.1, until - time.monotonic()))
        chunk = client.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def test_healthz_answers_under_a_thousand_stalled_uploads_which_are_then_let_go(tmp_path: Path) -> None:
    assert raise_fd_limit(STALLED + 500) >= STALLED + 500, "this test needs 1500 open files"
    config = {"SECRET_KEY": "slow-clients", "EMOTUNE_INSTANCE_PATH": str(tmp_path / "instance"),
              "EMOTUNE_QUEUE": unique_name("emotune_slow"), "SESSION_COOKIE_SECURE": "false"}
    port = free_port()
    web = start_gunicorn(service_env(config), tmp_path, port)
    stalled: list[socket.socket] = []
    try:
        base = f"http://127.0.0.1:{port}"
        assert requests.get(f"{base}/healthz", timeout=30).status_code == 200  # the app is loaded
        for _ in range(STALLED):
            client = socket.create_connection(("127.0.0.1", port), timeout=5)
            client.sendall(stalled_upload(SMALL_BYTES))
            stalled.append(client)
        time.sleep(1)  # every stalled upload has been accepted and is waiting for its body
        # Large uploads on top: those that fit the rest of the body budget wait for their bodies.
        large: list[socket.socket] = []
        for _ in range(LARGE):
            client = socket.create_connection(("127.0.0.1", port), timeout=5)
            client.sendall(stalled_upload(LARGE_BYTES))
            large.append(client)
        small, stalled = stalled, stalled + large
        started = time.monotonic()
        for _ in range(5):
            response = requests.get(f"{base}/healthz", timeout=5)
            assert response.status_code == 200 and response.json() == {"status": "ok"}
        assert time.monotonic() - started < 5, "/healthz was slow behind the stalled uploads"
        # The budget's overflow is refused once BUDGET_WAIT_S has passed without room.
        fits = (BODY_BUDGET_BYTES - STALLED * SMALL_BYTES) // LARGE_BYTES
        until = time.monotonic() + BUDGET_WAIT_S + 3
        busy = [client for client in large[fits:] if b'"server_busy"' in answer(client, until, b'"server_busy"')]
        assert len(busy) == LARGE - fits
        # Each stalled body is given up after BODY_IDLE_S of silence: 408, in the API's error shape.
        until = time.monotonic() + BODY_IDLE_S + 15
        for client in small + large[:fits]:
            data = answer(client, until, b'"request_timeout"')
            assert data.startswith(b"HTTP/1.1 408") and b'"request_timeout"' in data, data[:300]
    finally:
        for client in stalled:
            client.close()
        web.stop()
