"""`emotune` (the README's first command, `make run`): a short, truthful start, and it stops cleanly
however it was started and however it ends.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from emotune.cli.children import process_stats
from tests.conftest import unique_name
from tests.integration.conftest import http_session, poll_done
from tests.integration.processes import REPO_ROOT, free_port, service_env

pytestmark = pytest.mark.integration

# The README's quick start runs the service with this; tests/service/test_quick_start.py checks it.
RUN_COMMAND = "make run"
RUNNING = "EmoTune is running at"
ANSI = re.compile(r"\x1b\[")


class Emotune:
    """`emotune` started as a script would start it, in a process group of its own."""

    def __init__(self, args: list[str], env: dict[str, str], log_dir: Path, ignore_sigint: bool = False) -> None:
        self.log_path = log_dir / f"emotune-{time.monotonic_ns()}.log"
        self._log = self.log_path.open("wb")

        def setup() -> None:
            os.setpgrp()
            if ignore_sigint:  # as `emotune &` in a non-interactive shell starts it
                signal.signal(signal.SIGINT, signal.SIG_IGN)

        self.process = subprocess.Popen(args, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=self._log,
                                        stderr=subprocess.STDOUT, preexec_fn=setup)
        self.pgid = self.process.pid

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_running(self, timeout: float = 180) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.output()
            if RUNNING in text:
                return text
            if self.process.poll() is not None:
                raise AssertionError(f"emotune exited ({self.process.returncode}):\n{text[-4000:]}")
            time.sleep(0.2)
        raise AssertionError(f"emotune not running after {timeout} s:\n{self.output()[-4000:]}")

    def worker_pid(self) -> int:
        return int(re.search(r"pid (\d+) \(sweep", self.output()).group(1))

    def wait(self, timeout: float) -> int | None:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def cleanup(self) -> None:
        """Whatever the test did: nothing of this group may outlive it."""
        for pid in group_members(self.pgid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._log.close()


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes in process group ``pgid``."""
    return [pid for pid, fields in process_stats().items() if int(fields[2]) == pgid and fields[0] not in ("Z", "X")]


def pid_alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def wait_gone(pgid: int, timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while group_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return group_members(pgid)


@pytest.fixture
def emotune_env(tmp_path: Path) -> dict[str, str]:
    # As on a fresh clone: no SECRET_KEY (emotune generates one), no Secure-cookie setting, the
    # committed model; only the instance folder and the queue name are the test's own.
    return service_env({"EMOTUNE_INSTANCE_PATH": str(tmp_path / "instance"),
                        "EMOTUNE_QUEUE": unique_name("emotune_serve"),
                        "EMOTUNE_ANALYSES_RATE_LIMIT": "1000 per minute"})


def emotune_args(port: int) -> list[str]:
    return [str(Path(sys.executable).parent / "emotune"), "--port", str(port)]


def test_make_run_starts_quietly_serves_and_ctrl_c_stops_everything(tmp_path: Path, emotune_env: dict[str, str],
                                                                     face_jpeg: bytes) -> None:
    port = free_port()
    # The README's first command; its install step is already done here (a fresh stamp), so this
    # runs the Makefile's own `emotune` line against this interpreter's environment.
    stamps = tmp_path / "stamps"
    stamps.mkdir()
    (stamps / ".emotune-service").touch()
    args = [*RUN_COMMAND.split(), "-s", f"VENV={sys.prefix}", f"STAMPS={stamps}", f"ARGS=--port {port}"]
    serve = Emotune(args, emotune_env, tmp_path)
    try:
        output = serve.wait_running()
        time.sleep(1)  # anything printed after the URL would show up now
        lines = serve.output().rstrip("\n").splitlines()
        assert len(lines) <= 15, serve.output()
        assert lines[-1] == f"{RUNNING} http://127.0.0.1:{port}/"
        assert "generated one in" in output and "catalogue seeded" in output
        assert "Worker" in output and "Ctrl-C" in output
        assert re.search(r"Model +mobilenetv2_\w+, \d+\.\d% accurate on the \w+ test set", output), output
        assert not ANSI.search(output), "colour codes in output that is not a terminal"
        for noise in ("celery@", "WARNING", "development server", "Booting worker", "Warning"):
            assert noise not in output, f"{noise!r} in emotune's output:\n{output}"
        instance_log = Path(emotune_env["EMOTUNE_INSTANCE_PATH"]) / "emotune.log"
        logged = instance_log.read_text(errors="replace")
        assert "celery@" in logged or "ready." in logged  # Celery's banner went to the log file
        worker_pid = serve.worker_pid()

        base = f"http://127.0.0.1:{port}"
        session, headers = http_session(base)
        assert "emotune_session" in session.cookies  # plain-http cookie works (not Secure-only)
        response = session.post(f"{base}/api/analyses", files={"image": ("me.jpg", face_jpeg, "image/jpeg")},
                                headers=headers, timeout=30)
        assert response.status_code == 202, response.text
        body = poll_done(lambda: session.get(base + response.headers["Location"], timeout=10).json())
        assert body["status"] == "done" and body["recommendations"]["playlists"]
        assert session.get(f"{base}/", timeout=10).status_code == 200
        assert session.get(f"{base}/", timeout=10).headers.get("Server", "").startswith("gunicorn")

        os.killpg(serve.pgid, signal.SIGINT)  # Ctrl-C in a terminal reaches the whole group
        # make itself then ends by SIGINT, as it should; emotune said it stopped.
        assert serve.wait(30) in (0, -signal.SIGINT), serve.output()[-3000:]
        assert "Stopping EmoTune" in serve.output()
        assert wait_gone(serve.pgid, 10) == []
        assert not pid_alive(worker_pid)
        assert len(serve.output().rstrip("\n").splitlines()) <= 15
    finally:
        serve.cleanup()


def test_sigterm_stops_it_even_with_sigint_ignored(tmp_path: Path, emotune_env: dict[str, str]) -> None:
    serve = Emotune(emotune_args(free_port()), emotune_env, tmp_path, ignore_sigint=True)
    try:
        serve.wait_running()
        worker_pid = serve.worker_pid()
        assert len(group_members(serve.pgid)) >= 3  # emotune, gunicorn (+ its worker), celery (+ child)
        started = time.monotonic()
        serve.process.send_signal(signal.SIGTERM)
        assert serve.wait(10) == 0, serve.output()[-3000:]
        assert wait_gone(serve.pgid, 10 - (time.monotonic() - started)) == [], "processes left after SIGTERM"
        assert time.monotonic() - started <= 10
        assert not pid_alive(worker_pid)
    finally:
        serve.cleanup()


def test_sigint_stops_it_even_when_it_was_started_ignoring_sigint(tmp_path: Path,
                                                                   emotune_env: dict[str, str]) -> None:
    serve = Emotune(emotune_args(free_port()), emotune_env, tmp_path, ignore_sigint=True)
    try:
        serve.wait_running()
        serve.process.send_signal(signal.SIGINT)
        assert serve.wait(20) == 0, serve.output()[-3000:]
        assert wait_gone(serve.pgid, 10) == []
    finally:
        serve.cleanup()


def test_killing_emotune_takes_its_worker_and_web_server_with_it(tmp_path: Path,
                                                                 emotune_env: dict[str, str]) -> None:
    serve = Emotune(emotune_args(free_port()), emotune_env, tmp_path)
    try:
        serve.wait_running()
        worker_pid = serve.worker_pid()
        serve.process.send_signal(signal.SIGKILL)
        serve.wait(5)
        assert wait_gone(serve.pgid, 10) == [], "children outlived a SIGKILLed emotune by 10 s"
        assert not pid_alive(worker_pid)
    finally:
        serve.cleanup()


def test_a_dead_worker_stops_emotune_with_a_message(tmp_path: Path, emotune_env: dict[str, str]) -> None:
    serve = Emotune(emotune_args(free_port()), emotune_env, tmp_path)
    try:
        serve.wait_running()
        os.kill(serve.worker_pid(), signal.SIGKILL)
        assert serve.wait(30) == 1, serve.output()[-3000:]
        assert "The Celery worker stopped unexpectedly" in serve.output()
        assert wait_gone(serve.pgid, 10) == []
    finally:
        serve.cleanup()


def test_a_taken_port_is_a_clear_error_before_anything_starts(tmp_path: Path, emotune_env: dict[str, str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = subprocess.run(emotune_args(port), cwd=REPO_ROOT, env=emotune_env, capture_output=True,
                                text=True, timeout=60)
    assert result.returncode == 1
    assert f"Port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "--port" in result.stderr and "Traceback" not in result.stderr
    assert RUNNING not in result.stdout
    # Nothing started: no database, no secret key generated, no worker.
    assert not Path(emotune_env["EMOTUNE_INSTANCE_PATH"]).exists()
