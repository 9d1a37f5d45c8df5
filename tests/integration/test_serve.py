"""`emotune` (the one command for a new user): migrate, seed, worker + web server, Ctrl-C stops both."""

from __future__ import annotations

import os
import re
import signal
import sys
import time
from pathlib import Path

import pytest

from tests.integration.conftest import http_session, poll_done
from tests.integration.processes import Proc, free_port, service_env

pytestmark = pytest.mark.integration


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) counts as gone.
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "zombie" not in status.read_text()


def test_one_command_serves_the_app_and_ctrl_c_stops_both(tmp_path: Path, service_config: dict[str, str | None],
                                                          face_jpeg: bytes) -> None:
    config = {**service_config, "SECRET_KEY": None, "SESSION_COOKIE_SECURE": None}
    port = free_port()
    serve = Proc("emotune", [sys.executable, "-c", "from emotune.cli.serve import main; main()", "--port", str(port)],
                 service_env(config), tmp_path)
    try:
        serve.wait_for_log("EmoTune is running at", timeout=120)
        output = serve.log()
        assert "generated one in" in output and "secret_key" in output
        assert "catalogue seeded" in output
        assert f"http://127.0.0.1:{port}/" in output
        worker_pid = int(re.search(r"worker pid (\d+)", output).group(1))
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                session, headers = http_session(base)
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        assert "emotune_session" in session.cookies  # plain-http cookie works (not Secure-only)
        response = session.post(f"{base}/api/analyses", files={"image": ("me.jpg", face_jpeg, "image/jpeg")},
                                headers=headers, timeout=30)
        assert response.status_code == 202, response.text
        body = poll_done(lambda: session.get(base + response.headers["Location"], timeout=10).json())
        assert body["status"] == "done" and body["recommendations"]["playlists"]
        assert session.get(f"{base}/", timeout=10).status_code == 200
    finally:
        code = serve.stop(signal.SIGINT, timeout=60)
    assert code == 0, serve.log()[-3000:]
    assert "Worker stopped" in serve.log()
    assert not pid_alive(worker_pid)
