"""Real processes for integration tests: `celery -A worker worker`, gunicorn and `emotune`.

Each runs with its own environment (the config under test) and logs to a file shown on failure.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Mapping
from emotune.gunicorn_conf import GUNICORN_CONFIG

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def service_env(config: Mapping[str, str | None]) -> dict[str, str]:
    """The process environment for ``config``: None values are removed, not inherited."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EMOTUNE_", "SPOTIFY_"))}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env["PYTHONUNBUFFERED"] = "1"
    for key, value in config.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = str(value)
    return env


class Proc:
    """A child process with its output in a log file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}-{time.monotonic_ns()}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(args, cwd=REPO_ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log():
                return
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited ({self.process.returncode}):\n{self.log()[-4000:]}")
            time.sleep(0.2)
        raise AssertionError(f"{self.name} did not log {text!r} within {timeout} s:\n{self.log()[-4000:]}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        """Send ``sig`` and wait; kill the whole process group if it does not end in time."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()
        return self.process.returncode


def start_worker(env: dict[str, str], log_dir: Path, queue: str) -> Proc:
    """`celery -A worker worker` on ``queue``, one prefork child; returns once it is ready."""
    worker = Proc(
        "worker",
        [sys.executable, "-m", "celery", "-A", "worker", "worker", "--loglevel", "INFO", "--pool", "prefork",
         "--concurrency", "1", "--queues", f"{queue},{queue}.control", "--hostname", f"{queue}@%h", "--without-mingle",
         "--without-gossip"],
        env,
        log_dir,
    )
    worker.wait_for_log("ready.", timeout=90)
    return worker


def start_gunicorn(env: dict[str, str], log_dir: Path, port: int) -> Proc:
    """Production web server: gunicorn serving ``emotune:create_app()``."""
    web = Proc("gunicorn", [sys.executable, "-m", "gunicorn", "-c", GUNICORN_CONFIG, "--bind", f"127.0.0.1:{port}",
                            "--workers", "1", "emotune:create_app()"], env, log_dir)
    web.wait_for_log("Booting worker", timeout=60)
    return web
