"""The running EmoTune stack for browser tests: web server and Celery worker as real processes.

Both run against the real Redis (a queue name of their own) and a PostgreSQL database created for
this test session and dropped afterwards, the way production runs them, only on loopback.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import psycopg
import redis

REPO_ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN_URL = os.environ.get("EMOTUNE_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("EMOTUNE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
VENV_BIN = Path(sys.executable).parent


class StackError(RuntimeError):
    """The stack could not start; the message says which part and shows its log."""


def free_port() -> int:
    """A TCP port on loopback nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def create_database(name: str) -> str:
    """CREATE a fresh PostgreSQL database and return its SQLAlchemy URL."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_database(name: str) -> None:
    """DROP the database, closing any connection a killed process left behind."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def get_json(url: str, timeout: float = 5.0) -> tuple[int, dict]:
    """GET ``url`` and return (status, parsed JSON body)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


@dataclass
class Stack:
    """The web server and worker processes of one test session."""

    model_path: Path
    log_dir: Path
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    port: int = field(default_factory=free_port)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    logs: dict[str, IO[bytes]] = field(default_factory=dict)
    database_url: str = ""
    # Settings on top of the defaults below (for example SPOTIFY_* pointing at the stand-in).
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database_name(self) -> str:
        return f"emotune_browser_{self.tag}"

    @property
    def queue(self) -> str:
        return f"emotune-browser-{self.tag}"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "FLASK_APP": "emotune",
                "PYTHONPATH": str(REPO_ROOT),
                "DATABASE_URL": self.database_url,
                "REDIS_URL": REDIS_URL,
                "EMOTUNE_QUEUE": self.queue,
                "EMOTUNE_MODEL_PATH": str(self.model_path),
                "SECRET_KEY": f"browser-tests-{self.tag}",
                # Plain http on loopback: a Secure cookie would still work in Chromium, but the
                # embedded serve command turns it off too, so the tests run that configuration.
                "SESSION_COOKIE_SECURE": "0",
                # Every test posts photos from 127.0.0.1; the limit is not what these tests check.
                "EMOTUNE_ANALYSES_RATE_LIMIT": "10000 per minute",
                "EMOTUNE_LITERT_THREADS": "1",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.pop("FLASK_DEBUG", None)
        env.update(self.extra_env)
        return env

    def flask(self, *args: str) -> subprocess.CompletedProcess:
        """Run a ``flask`` CLI command against this stack's configuration."""
        result = subprocess.run(
            [str(VENV_BIN / "flask"), *args], cwd=REPO_ROOT, env=self.env(),
            capture_output=True, text=True, timeout=180,
        )
        if result.returncode != 0:
            raise StackError(f"`flask {' '.join(args)}` failed:\n{result.stdout}\n{result.stderr}")
        return result

    def _spawn(self, name: str, argv: list[str]) -> None:
        log = open(self.log_dir / f"{name}.log", "wb")
        self.logs[name] = log
        self.processes[name] = subprocess.Popen(
            argv, cwd=REPO_ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log_text(self, name: str) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def start(self) -> None:
        """Create the database, migrate, seed, start worker and web server, wait until ready."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        redis.Redis.from_url(REDIS_URL, socket_timeout=3).ping()
        self.database_url = create_database(self.database_name)
        self.flask("db", "upgrade")
        self.flask("seed-playlists")
        self._spawn("worker", [
            str(VENV_BIN / "celery"), "-A", "worker", "worker", "--queues", f"{self.queue},{self.queue}.control",
            "--pool", "solo", "--hostname", f"browser-{self.tag}@%h", "--loglevel", "INFO",
            "--without-gossip", "--without-mingle",
        ])
        self._spawn("web", [
            str(VENV_BIN / "flask"), "run", "--host", "127.0.0.1", "--port", str(self.port),
            "--no-reload", "--no-debugger", "--with-threads",
        ])
        self.wait_ready()

    def wait_ready(self, timeout_s: float = 120.0) -> None:
        """Block until /readyz says the database, broker, worker and model are all ready."""
        deadline = time.monotonic() + timeout_s
        last: object = "no answer"
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise StackError(f"The {name} process exited with {process.returncode}:\n{self.log_text(name)}")
            try:
                status, body = get_json(f"{self.base_url}/readyz", timeout=10)
                if status == 200:
                    return
                last = body
            except (OSError, ValueError) as error:
                last = error
            time.sleep(0.5)
        raise StackError(
            f"EmoTune was not ready after {timeout_s:.0f}s: {last}\n"
            f"--- worker log ---\n{self.log_text('worker')}\n--- web log ---\n{self.log_text('web')}"
        )

    def stop(self) -> None:
        """Stop both processes, drop the database and delete this session's queue."""
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for name, process in self.processes.items():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
            self.logs[name].close()
        if self.database_url:
            drop_database(self.database_name)
        client = redis.Redis.from_url(REDIS_URL, socket_timeout=3)
        client.delete(self.queue, *client.keys(f"*{self.queue}*"))
