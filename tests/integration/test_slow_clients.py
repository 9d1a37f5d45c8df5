"""Stalled uploads cannot take the web server down: a thousand of them leave /healthz answering,
and each is answered 408 and let go once its body has been silent for BODY_IDLE_S."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import requests

from emotune.gunicorn_conf import raise_fd_limit
from emotune.http import BODY_IDLE_S
from tests.conftest import unique_name
from tests.integration.processes import free_port, service_env, start_gunicorn

STALLED = 1000
# An upload's headers and the first 100 bytes of a 100 KB body, then nothing.
STALLED_UPLOAD = (
    b"POST /api/analyses HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Content-Type: multipart/form-data; boundary=xyz\r\nContent-Length: 100000\r\n\r\n"
    + b"--xyz\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.jpg\"\r\n\r\n"[:100].ljust(100, b"a")
)


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
            client.sendall(STALLED_UPLOAD)
            stalled.append(client)
        time.sleep(1)  # every stalled upload has been accepted and is waiting for its body
        started = time.monotonic()
        for _ in range(5):
            response = requests.get(f"{base}/healthz", timeout=5)
            assert response.status_code == 200 and response.json() == {"status": "ok"}
        assert time.monotonic() - started < 5, "/healthz was slow behind the stalled uploads"
        # Each stalled body is given up after BODY_IDLE_S of silence: 408, in the API's error shape.
        deadline = time.monotonic() + BODY_IDLE_S + 15
        for client in stalled:
            answer = b""
            while b'"request_timeout"' not in answer and time.monotonic() < deadline:
                client.settimeout(max(0.1, deadline - time.monotonic()))
                chunk = client.recv(4096)
                if not chunk:
                    break
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 408") and b'"request_timeout"' in answer, answer[:300]
    finally:
        for client in stalled:
            client.close()
        web.stop()
