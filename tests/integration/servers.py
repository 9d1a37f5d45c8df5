"""A Redis and a PostgreSQL of a test's own, on free loopback ports, that the test may kill.

Fault tests stop, kill and restart these servers; they never touch the shared ones (6379, 5432).
Each lives in a temporary folder of its own (removed on ``cleanup``). PostgreSQL refuses to run
as root, so as root its commands run as the ``postgres`` user (``runuser``).
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import redis

from tests.integration.processes import free_port



def _pg_bin() -> Path:
    """PostgreSQL's server programs: EMOTUNE_TEST_PG_BIN, else initdb's folder on PATH, else Debian's newest."""
    if os.environ.get("EMOTUNE_TEST_PG_BIN"):
        return Path(os.environ["EMOTUNE_TEST_PG_BIN"])
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name)
                      if p.parent.name.isdigit() else 0)
    return versions[-1] if versions else Path("/usr/lib/postgresql/bin")


PG_BIN = _pg_bin()


def _as_postgres(args: list[str]) -> list[str]:
    """``args`` run as the postgres user when we are root (initdb and postgres refuse root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


class RedisServer:
    """``redis-server`` on a free port in its own folder; persistence as asked (AOF and RDB)."""

    def __init__(self, appendonly: bool = False, port: int | None = None) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="emotune-redis-"))
        self.port = port or free_port()
        self.appendonly = appendonly
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = self.dir / "redis.log"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=2, socket_timeout=10)

    def start(self) -> RedisServer:
        """Start (or start again, same port and folder) and wait until it answers PING."""
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
                "--logfile", str(self.log_path), "--daemonize", "no", "--protected-mode", "no"]
        if self.appendonly:
            args += ["--appendonly", "yes", "--appendfsync", "always"]
        else:
            args += ["--appendonly", "no", "--save", ""]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if self.client().ping():
                    return self
            except redis.RedisError:
                time.sleep(0.1)
        raise AssertionError(f"redis-server on {self.port} did not start:\n{self.log_path.read_text(errors='replace')}")

    def kill(self) -> None:
        """SIGKILL: whatever it held in memory only is gone."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def restart_empty(self) -> None:
        """Kill it and start it again without any of its data (a restart without persistence)."""
        self.kill()
        for path in self.dir.iterdir():
            if path.name != self.log_path.name:
                shutil.rmtree(path) if path.is_dir() else path.unlink()
        self.start()

    def cleanup(self) -> None:
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


class PostgresCluster:
    """A throw-away PostgreSQL cluster (initdb) on a free port; ``stop``/``start`` make an outage."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="emotune-pg-"))
        self.data = self.dir / "data"
        self.log_path = self.dir / "postgres.log"
        self.port = free_port()
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
        self.dir.chmod(0o755)
        subprocess.run(_as_postgres([str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
                                     "--auth", "trust", "--no-sync", "-E", "UTF8"]),
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> PostgresCluster:
        """Start the cluster and wait until it accepts connections."""
        # fsync off: a process crash (stop -m immediate) keeps every commit; only an OS crash would not.
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=off "
                   "-c max_connections=300")
        subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log_path),
                                     "-o", options, "-w", "-t", "60", "start"]),
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return self

    def stop(self, mode: str = "immediate") -> None:
        """Stop the cluster (``immediate``: like a crash, connections cut without goodbye)."""
        subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"]),
                       check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def create_database(self, name: str) -> str:
        """Create ``name`` and return its URL."""
        with psycopg.connect(self.url(), autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def checkpoint(self) -> None:
        """Write everything to the data files (so a search of them sees what the server holds)."""
        with psycopg.connect(self.url(), autocommit=True, connect_timeout=5) as conn:
            conn.execute("CHECKPOINT")

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
